"""Default configuration from the seeds, loaded by init-db: NEST's procedure, editable afterwards."""
from ..models import ActionCode, FollowUpType, FollowUpTypeNext, LostReason, Setting, Stage, database
from ..rules.qualification import DEFAULT_KEYWORDS
from .answer_defaults import ANSWER_DETAILS, ANSWER_TEMPLATES

# DESIGN: pipeline stages (kanban columns).
STAGES = [
    ("Nouveau", "open"), ("En qualification", "open"), ("RDV programmé", "open"),
    ("Devis / proposition envoyée", "open"), ("Promesse", "open"), ("Converti", "won"), ("Perdu", "lost"),
]

# Seeds 002 and 003: why a prospect is lost.
LOST_REASONS = [
    ("not_interested", "Pas intéressé"), ("unreachable", "Injoignable"),
    ("no_answer", "Ne répond plus"), ("wrong_number", "Numéro erroné"),
    ("financing", "Financement"), ("competition", "Concurrence"),
    ("project_cancelled", "Projet annulé"), ("postponed", "Projet reporté"),
    ("duplicate", "Doublon"), ("do_not_contact", "Ne plus contacter"), ("other", "Autre"),
]

# Seed 003's lexicon; outbound contacts spend the action budget, visits and inbound calls do not.
# (code, label, channel, counts toward the budget[, sends the quote / information asked for])
ACTION_CODES = [
    ("APL", "Appel", "phone", True), ("APL MSQ", "Appel masqué", "phone", True),
    ("APL CLG", "Appel par un collègue", "phone", True), ("MSG", "Message répondeur", "phone", True),
    ("RLC", "Relance", "phone", True), ("SMS", "SMS", "sms", True),
    ("SMS INJ", "SMS injoignable", "sms", True), ("SMS FDJ", "SMS fin de journée", "sms", True),
    ("WA", "Message WhatsApp", "whatsapp", True), ("MAIL", "Mail", "email", True),
    ("MAIL DEC", "Mail découverte", "email", True), ("MAIL INJ", "Mail injoignable", "email", True),
    ("CALL 2", "Appel avant inscription (objections, closing)", "phone", True),
    ("APL ENT", "Appel entrant", "phone", False), ("VISITE", "Visite", "visit", False),
    # Seed 001: "Rappeler dans les 7 jours après la réponse à la demande" counts from these answers.
    ("DEVIS", "Envoi du devis / des tarifs", None, True, True),
    ("DOC", "Envoi des informations / de la documentation", None, True, True),
]

# Seeds 000, 001 and 002: NEST's follow-up workflow.
# (name, description, first step, action, next types, stable code: the rules find their type by it)
FOLLOWUP_TYPES = [
    ("Réponse à la demande", "Répondre à la première question (sous 48 h ouvrées, soit deux jours ouvrés ; "
     "15 jours au plus).",
     True, "none", ["Appel pour proposer un RDV", "Rappel de qualification", "Rappel après devis / information"],
     "answer"),
    ("Appel pour proposer un RDV", "Prospect chaud sans nouvelle interaction : l'inviter à prendre RDV.",
     True, "none", ["Rendez-vous", "Rappel après devis / information"], "appointment_call"),
    # Seed 002's "sales appointment" action: the follow-up *is* the appointment; the procedure plans
    # the reminder call before it (seed 001: "Rappel de RDV par appel téléphonique").
    ("Rendez-vous", "Le rendez-vous lui-même, à sa date et son heure.",
     True, "appointment", ["Consultation découverte", "Rappel après devis / information"], "appointment"),
    ("Rappel de qualification", "Prospect tiède : le rappeler pour mieux le qualifier.",
     True, "none", ["Envoi de documentation", "Appel pour proposer un RDV"], "qualify_call"),
    ("Envoi de documentation", "Envoyer la documentation commerciale.",
     False, "none", ["Rappel après devis / information", "Appel pour proposer un RDV"], "send_documentation"),
    ("Rappel après devis / information", "Rappeler dans les 7 jours après la réponse.",
     True, "none", ["Appel pour proposer un RDV", "Rappel de RDV"], "callback_after_answer"),
    ("Rappel de RDV", "Appel de rappel avant le rendez-vous.",
     False, "none", ["Rendez-vous", "Consultation découverte"], "appointment_reminder"),
    ("Consultation découverte", "Séance ou consultation d'essai gratuite.",
     False, "trial", ["Rappel après devis / information", "Appel pour proposer un RDV"], "trial"),
]

# DESIGN: thresholds and budgets are configuration, NEST's figures the default.
SETTINGS = {
    "activity_thresholds": {"hot": [15, 30], "warm": [30, 60], "cold": [60, 90]},
    "action_budget": 15,
    # Who a secretary may give a follow-up or a new prospect to: "self" (herself only) or "team".
    "secretaries_assign": "self",
    # Seed 000: "dans les 48 heures ouvrés", read as two working days (jours ouvrés); a business that
    # means opening hours sets {"count": 48, "unit": "working_hours"}. The later questions' target too.
    "answer_target": {"count": 2, "unit": "working_days"},
    "answer_window_days": 15,
    "abandon_after_days": 7,
    "holiday_country": "SN",
    "working_hours": {"mon": ["08:30", "18:00"], "tue": ["08:30", "18:00"], "wed": ["08:30", "18:00"],
                      "thu": ["08:30", "18:00"], "fri": ["08:30", "18:00"], "sat": ["09:00", "13:00"]},
    "contact_person": "Codou",
    # Seed 001: what a request asks for, read from its words (rules.qualification), strongest intent first.
    "qualification_keywords": DEFAULT_KEYWORDS,
    # Seeds 000 and 001: the follow-up rules' delays (keys as rules.followups.RULE_DEFAULTS names them).
    "hot_silence_hours": 48,
    "requalified_call_hours": 48,
    "warm_qualify_after_hours": 48,
    "callback_after_answer_days": 7,
    # SECURITY.md: raw inbound requests are emptied this long after they arrived, once read (processed,
    # in triage, failed, dismissed or spam); their rows, states and the records they made stay.
    "intake_retention_days": 180,
    # Seeds 000 and 001: the provenance each new patient states at the admission interview (issue 17).
    "patient_provenances": ["Site web", "Facebook", "Bouche-à-oreille", "Événement", "Offre gratuite",
                            "Appel sortant", "Autre"],
    # Issue 17 §5 (data minimisation): a patient no sync has named for this many months, and that no
    # prospect, match, interaction or request is linked to, is deleted by the nightly sweep; 0 keeps them.
    "patient_retention_months": 24,
    # Issue 16 §5: the answer templates (seed 000), what fills their placeholders, and how many mails
    # one address may get from us in a day (a loop with an auto-responder stops there).
    "answer_templates": ANSWER_TEMPLATES,
    "answer_details": ANSWER_DETAILS,
    "mail_daily_cap": 3,
}


def ensure_defaults() -> int:
    """Insert whatever default configuration is missing; never overwrites an edit. Returns rows added."""
    added = 0
    with database.atomic():
        if not Stage.select().exists():
            for position, (name, kind) in enumerate(STAGES):
                Stage.create(name=name, kind=kind, position=position)
                added += 1
        for position, (code, label) in enumerate(LOST_REASONS):
            _, created = LostReason.get_or_create(code=code, defaults={"label": label, "position": position})
            added += created
        for code, label, channel, counts, *sends in ACTION_CODES:
            _, created = ActionCode.get_or_create(
                code=code, defaults={"label": label, "channel": channel, "counts_toward_budget": counts,
                                     "sends_information": bool(sends and sends[0])})
            added += created
        if not FollowUpType.select().exists():
            by_name = {}
            for position, (name, description, first, action, _, code) in enumerate(FOLLOWUP_TYPES):
                by_name[name] = FollowUpType.create(name=name, code=code, description=description,
                                                    first_step=first, action=action, position=position)
                added += 1
            for name, *_, next_names, _ in FOLLOWUP_TYPES:
                for next_name in next_names:
                    FollowUpTypeNext.create(from_type=by_name[name], to_type=by_name[next_name])
        for key, value in SETTINGS.items():
            _, created = Setting.get_or_create(key=key, defaults={"value": value})
            added += created
    return added


def setting(key: str):
    """A business setting, falling back to the seeded default."""
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row is not None else SETTINGS[key]


def store_setting(key: str, value) -> None:
    """Keep a setting's new value (made if missing)."""
    Setting.insert(key=key, value=value).on_conflict(conflict_target=[Setting.key],
                                                     update={Setting.value: value}).execute()
