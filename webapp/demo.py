"""Realistic demo data for `relance demo`: NEST's staff and about 300 prospects over six months.

Everything goes through the services real use goes through (record_contact, add_interaction,
change_temperature, set_do_not_contact), backdated with `now=`, so dedupe, histories and action
budgets are real. Repeatable for a seed. The shared password is for demonstration only.

The history is built back from the day it runs, in the business calendar's opening hours (no contact on
a Saturday afternoon, a Sunday, a public holiday or before opening), and the procedure was kept: each rule
follow-up whose day has gone by was done on its day, with the contact it was; what is due from today on
is planned by the sweep's own rules. So the first `relance sweep` agrees with the demo: it has nothing to
catch up, and a board shows a clinic at work, not a backlog.
"""
import random
from datetime import date, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from urllib.parse import urlencode

from flask import current_app

from integrations.contract import MAIL_CONTENT_TYPE, PatientRecord
from integrations.plugins import source_type

from .demo_data import (ASKS, CHANNEL_WEIGHTS, CODE_NOTES, COOLER, EMAIL_DOMAINS, FIRST_CODE, FURTHER,
                        FURTHER_COUNT, LAST_NAMES, LOST_WEIGHTS, MALE_ASKS, MANUAL_COMMENTS, MEN, NOTES, ORIGINS,
                        PATIENT_CALLS, QUALIFICATION_WEIGHTS, TEMPERATURE_WEIGHTS, TRIAGED, WARMER, WOMEN)
from .demo_patients import ensure_source
from .demo_procedure import keep_procedure
from .models import (ActionCode, ActivityStatusChange, FollowUp, FollowUpType, LostReason, Patient,
                     PatientMatch, PatientPhone, Prospect, Source, Stage, StageChange, User, database)
from .rules.activity import activity_status
from .rules.phones import normalise_phone
from .rules.text import fold, search_text
from .rules.worktime import is_open, last_working_moment, local_time, next_opening, opening_span
from .services import intake, provenances, reconcile
from .services.defaults import setting
from .services.followups import business_calendar
from .services.next_action import refresh_next_action
from .services.prospects import (ContactInput, add_interaction, change_temperature, record_contact,
                                 set_do_not_contact)
from .services.sources import create_source
from .services.sweep import sweep_rules
from .services.users import create_user
from .timeutil import as_utc, utcnow

DEMO_PASSWORD = "relance-demo"
DEMO_PATIENT_SOURCE = "nest-dossiers"   # the demo clinic's patient system
STAFF = [("codou@nest.demo", "Codou Ndiaye", "secretary"),
         ("aminata@nest.demo", "Aminata Sarr", "secretary"),
         ("fatou@nest.demo", "Fatou Diallo", "lead"),
         ("moussa@nest.demo", "Moussa Faye", "manager"),
         ("admin@nest.demo", "Admin", "admin")]
PROSPECTS, BATCH, DAYS_BACK = 300, 50, 182
BAD_PHONES = {17: "77 12", 141: "78 45 1", 233: "76 123"}   # typed too short: kept as typed, flagged


def _pick(rng: random.Random, weighted: list):
    return rng.choices([value for value, _ in weighted], weights=[w for _, w in weighted])[0]


def load_demo(seed: int = 20261123, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Load the demo once (staff, prospects, patients, follow-ups) as of `now` (the clock by default);
    return (email, role, password)."""
    staff = _ensure_staff()
    if not Prospect.select().where(Prospect.created_by.in_(list(staff.values()))).exists():
        _Loader(random.Random(seed), now or utcnow(), staff).run()
    return [(email, role, DEMO_PASSWORD) for email, _, role in STAFF]


def _ensure_staff() -> dict[str, User]:
    """The demo accounts by email; an existing account with one of these emails is kept as it is."""
    staff = {}
    with database.atomic():
        for email, name, role in STAFF:
            staff[email] = (User.get_or_none(User.email == email)
                            or create_user(email, name, role, DEMO_PASSWORD))
    return staff


def _written(rng: random.Random, national: str) -> str:
    """A Senegalese mobile number (9 digits) written the many ways staff and forms write it."""
    spaced = f"{national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    return _pick(rng, [(spaced, 5), (national, 2), (f"+221 {spaced}", 2), (f"00221{national}", 1),
                       (f"+221{national}", 1), (spaced.replace(" ", "-"), 1), (spaced.replace(" ", "."), 1)])


class _Loader:
    """One demo load: a random source, a fixed `now`, the configuration looked up once."""

    def __init__(self, rng: random.Random, now: datetime, staff: dict[str, User]):
        self.rng, self.now = rng, now
        self.secretaries = [staff["codou@nest.demo"], staff["aminata@nest.demo"]]
        self.lead = staff["fatou@nest.demo"]
        self.region = current_app.config.get("PHONE_REGION", "SN")
        self.thresholds = setting("activity_thresholds")
        self.codes = {c.code: c for c in ActionCode.select().where(ActionCode.active)}
        self.types = {t.code: t for t in FollowUpType.select().where(FollowUpType.code.is_null(False))}
        self.cal = business_calendar(now, current_app.config["TIMEZONE"])
        stages = list(Stage.select().where(~Stage.retired).order_by(Stage.position))
        self.open_stages = [s for s in stages if s.kind == "open"]
        self.won_stage = next((s for s in stages if s.kind == "won"), None)
        self.lost_stage = next((s for s in stages if s.kind == "lost"), None)
        self.reasons = {r.code: r for r in LostReason.select().where(LostReason.active)}
        self.used: set[str] = set()
        self.created: list[int] = []

    def run(self) -> None:
        people = sorted((self._person(i) for i in range(PROSPECTS)), key=lambda p: p[0])
        for start in range(0, len(people), BATCH):
            with database.atomic():
                for at, contact in people[start:start + BATCH]:
                    self._prospect(at, contact)
        with database.atomic():
            self._suspected_duplicates()  # first: the procedure then covers the records they make
            keep_procedure(self)
            self._patients()
            self._settle_activity_and_plan()
            self._due_today()
            refresh_next_action()   # the follow-ups above are written directly, as of their dates
        sweep_rules(self.now, only=self.created)   # what the rules ask from today on, as the sweep plans it
        self._web_requests()
        self._mail_requests()
        ensure_source()   # the patient system's export has a source to be imported into

    def _web_requests(self) -> None:
        """The website's form as a source, and this morning's requests: three for the lead to triage (one
        from a known prospect, one from a patient), one that could not be read, one caught as spam."""
        source = create_source("site-web", "webform", "Site web NEST",
                               {"allowed_origins": ["https://www.nest.sn"],
                                "thank_you_url": "https://www.nest.sn/merci"})
        known = Prospect.select().where(Prospect.outcome == "open").order_by(Prospect.id).first()
        patient = Patient.select().where(Patient.phone.is_null(False)).order_by(Patient.id).first()
        posts = [
            {"prenom": "Ndèye", "nom": "Sarr", "tel": "77 418 20 96", "demande": "rdv",
             "message": "Bonjour, je voudrais un rendez-vous pour un bilan de fertilité."},
            {"prenom": known.first_name, "nom": known.last_name, "tel": known.phone or "",
             "email": known.email or "", "demande": "devis", "message": "Pouvez-vous me rappeler pour les tarifs ?"},
            {"prenom": patient.first_name, "nom": patient.last_name, "tel": patient.phone,
             "message": "Je souhaite des informations sur le programme de suivi de grossesse."},
            {"prenom": "Khady", "nom": "Diallo", "message": "Merci de me contacter."},            # no contact
            {"nom": "Buy now", "email": "promo@spam.example", "website": "http://spam.example"},  # honeypot
        ]
        for minutes, post in zip((170, 95, 40, 25, 10), posts):
            received = intake.accept(source, content_type="application/x-www-form-urlencoded",
                                     headers={"User-Agent": "Mozilla/5.0", "Origin": "https://www.nest.sn"},
                                     body=urlencode(post).encode(), remote_addr="41.82.120.7",
                                     now=self.now - timedelta(minutes=minutes))
            if received.state == "received":
                intake.process(received.id, self.now)

    def _mail_requests(self) -> None:
        """The clinic's mailbox as a source (inactive: the demo has no mail server to poll) and three mails of
        this morning, processed as a poll would have them: a new question for the lead's triage, a known
        prospect's mail logged on her record, and an out-of-office reply kept out of everything."""
        kind = source_type("imap")
        source = Source.create(slug="boite-accueil", type="imap", name="Boîte accueil (démo)", active=False,
                               config={**kind.defaults(), "host": "imap.nest.example.sn",
                                       "user": "accueil@nest.example.sn"})
        known = (Prospect.select().where((Prospect.outcome == "open") & Prospect.email.is_null(False))
                 .order_by(Prospect.id).first())
        mails = [
            ("Mariama Cissé", "mariama.cisse@gmail.com", "Renseignements programme de préparation", None,
             "Bonjour,\n\nJe suis enceinte de 5 mois et je voudrais des renseignements sur votre programme de "
             "préparation à l'accouchement (dates, tarifs).\nVous pouvez me joindre au 76 512 33 08.\n\n"
             "Merci d'avance,\nMariama\n\nEnvoyé de mon iPhone\n"),
            (known.full_name, known.email, "Re: Votre demande", None,
             "Bonjour,\n\nMerci pour votre appel. Est-ce possible de décaler le rendez-vous à jeudi ?\n\n"
             "Cordialement\n") if known else None,
            ("Dr Ousmane Ba", "o.ba@hopital.example.sn", "Réponse automatique : absence du bureau",
             "Auto-Submitted: auto-replied\n",
             "Je suis absent du bureau jusqu'au 15 décembre. Pour toute urgence, contactez le secrétariat.\n"),
        ]
        # Dated in the last opening hours (a mail logged on a record is a contact: the demo keeps them there).
        last_open = last_working_moment(self.cal, self.now)
        for n, (name, address, subject, extra, text) in enumerate(mail for mail in mails if mail):
            at = last_open - timedelta(minutes=60 - 15 * n)
            raw = (f"From: {Header(name, 'utf-8').encode()} <{address}>\nTo: Clinique NEST "
                   f"<accueil@nest.example.sn>\nSubject: {Header(subject, 'utf-8').encode()}\n"
                   f"Date: {format_datetime(as_utc(at))}\n"
                   f"Message-ID: <demo-{n}.{self.now:%Y%m%d}@mail.example.sn>\n{extra or ''}MIME-Version: 1.0\n"
                   "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                   f"{text}").encode()
            received = intake.accept(source, content_type=MAIL_CONTENT_TYPE, headers={}, body=raw,
                                     remote_addr="", now=at)
            if received.state == "received":
                intake.process(received.id, self.now)

    def _due_today(self) -> None:
        """Two follow-ups later today for each person who works prospects: a full "Ma journée"."""
        rng = self.rng
        for user in self.secretaries + [self.lead]:
            candidates = list(Prospect.select().where((Prospect.owner == user) & (Prospect.outcome == "open")
                                                      & ~Prospect.do_not_contact).order_by(Prospect.id))
            for prospect in rng.sample(candidates, min(2, len(candidates))):
                later = self.now + timedelta(minutes=rng.randint(30, 240))
                # Later today while open; loaded on a closed evening or day, at the next opening.
                due = later if is_open(self.cal, later) else next_opening(self.cal, later)
                FollowUp.create(prospect=prospect, type=self.types.get("qualify_call"), owner=user,
                                due_at=due,
                                value=prospect.temperature, comment=rng.choice(MANUAL_COMMENTS),
                                created_by=user, created_at=self.now - timedelta(days=1))

    # -- people ---------------------------------------------------------------------------------
    def _person(self, index: int) -> tuple[datetime, ContactInput]:
        """When a person first got in touch, and what she said."""
        rng = self.rng
        male = rng.random() < 0.12
        first, last = rng.choice(MEN if male else WOMEN), rng.choice(LAST_NAMES)
        channel, qualification = _pick(rng, CHANNEL_WEIGHTS), _pick(rng, QUALIFICATION_WEIGHTS)
        temperature = _pick(rng, TEMPERATURE_WEIGHTS[qualification])
        if channel == "event" and rng.random() < 0.7:
            temperature = "cold"    # seed 000: met during a campaign, no need expressed yet
        at = self._working_time(self.now - timedelta(days=DAYS_BACK * rng.random() ** 1.15))
        email = self._email(first, last) if channel in ("email", "webform") or rng.random() < 0.3 else None
        phone = "" if channel == "email" and rng.random() < 0.3 else self._phone(index)
        birth = None if male or rng.random() < 0.55 else self._birth_date()
        return at, ContactInput(
            first_name=first, last_name=last, phone=phone, email=email, birth_date=birth, channel=channel,
            qualification=qualification, temperature=temperature, origin_detail=rng.choice(ORIGINS[channel]),
            note=rng.choice(MALE_ASKS if male else ASKS[qualification]),
            action_code=self.codes.get(FIRST_CODE.get(channel)))

    def _unique(self, make) -> str:
        while (value := make()) in self.used:
            pass
        self.used.add(value)
        return value

    def _phone(self, index: int) -> str:
        rng = self.rng
        if index in BAD_PHONES:
            return BAD_PHONES[index]
        if rng.random() < 0.03:
            return self._unique(self._french)
        return _written(rng, self._unique(lambda: rng.choice(["77", "77", "78", "78", "76", "70", "75"])
                                          + f"{rng.randint(0, 9999999):07d}"))

    def _french(self) -> str:
        while not normalise_phone(number := self.rng.choice(["+33 6 ", "0033 6 ", "+33 7 "]) + " ".join(
                f"{self.rng.randint(10, 99)}" for _ in range(4)), self.region).valid:
            pass
        return number

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        local = fold(first).replace(" ", "").replace("-", "") + rng.choice([".", "", "_"]) + fold(last)
        return self._unique(lambda: f"{local}{rng.choice(['', '', str(rng.randint(1, 99))])}"
                                    f"@{rng.choice(EMAIL_DOMAINS)}")

    def _birth_date(self) -> date:
        """A woman of 20 to 42; unique, so that no two demo people match on birth date."""
        today = self.now.date()
        return date.fromisoformat(self._unique(lambda: (
            today - timedelta(days=round(365.25 * self.rng.uniform(20, 42)))).isoformat()))

    def _working_time(self, moment: datetime, future: bool = False) -> datetime:
        """A time within the opening hours of `moment`'s day, or of the next working day when that one is
        closed (Sunday, a holiday); in the past unless `future`."""
        day = local_time(self.cal, moment).date()
        while (span := opening_span(self.cal, day)) is None:
            day += timedelta(days=1)
        opens, closes = span
        at = (opens + (closes - opens) * self.rng.random()).replace(second=0, microsecond=0)
        if future or at < self.now:
            return at
        return self._earlier_today()

    def _earlier_today(self) -> datetime:
        """A time in the last opening hours before now (this morning's, or the last working day's when
        closed now), not all just before "now"."""
        end = last_working_moment(self.cal, self.now)
        opens = opening_span(self.cal, local_time(self.cal, end).date())[0]
        return (opens + (end - opens) * self.rng.uniform(0.0, 0.95)).replace(second=0, microsecond=0)

    # -- one prospect's life --------------------------------------------------------------------
    def _prospect(self, created: datetime, contact: ContactInput) -> None:
        rng = self.rng
        author = self.lead if contact.channel in TRIAGED else rng.choice(self.secretaries)
        contact.owner = rng.choice(self.secretaries + [self.lead]) if contact.channel in TRIAGED else author
        # A chance match (a shared last name and birth date) is offered for review, as intake would.
        outcome = record_contact(contact, author, now=created, decision="suspect")
        if not outcome.created:
            return
        prospect = outcome.prospect
        self.created.append(prospect.id)
        times = [created] + self._timeline(created, _pick(rng, FURTHER_COUNT))
        for at in times[1:]:
            prospect = self._interaction(prospect, at)
            if rng.random() < 0.1:
                self._change_temperature(prospect, min(at + timedelta(minutes=10), self.now))
        if rng.random() < 0.03:
            set_do_not_contact(prospect, True, "Ne souhaite plus être appelée, reviendra d'elle-même",
                               self.lead, now=min(times[-1] + timedelta(minutes=30), self.now))
        self._close_or_advance(prospect, times)

    def _timeline(self, created: datetime, count: int) -> list[datetime]:
        times, at = [], created
        for _ in range(count):
            gap = self.rng.expovariate(1 / 8) + 0.2
            if at + timedelta(days=gap) >= self.now:
                break  # a contact that has not happened yet (clamping it would bunch them all at "now")
            at = max(self._working_time(at + timedelta(days=gap)), next_opening(self.cal, at + timedelta(minutes=20)))
            if at >= self.now:
                break
            times.append(at)
        return times

    def _interaction(self, prospect: Prospect, at: datetime) -> Prospect:
        """One more contact; the prospect as it now stands (a fresh call is typed in afresh)."""
        rng = self.rng
        channel, direction, codes = _pick(rng, FURTHER)
        code = rng.choice(codes)
        note = CODE_NOTES.get(code) or rng.choice(NOTES[(channel, direction)])
        user = prospect.owner if rng.random() < 0.8 else rng.choice(self.secretaries)
        self._catch_up_activity(prospect, at)
        if channel == "phone" and direction == "in" and prospect.phone and rng.random() < 0.3:
            # She calls again, her number written another way: dedupe finds her record.
            phone = prospect.phone
            if phone.startswith("+221"):
                phone = _written(rng, phone.removeprefix("+221"))
            record_contact(ContactInput(first_name=prospect.first_name, last_name=prospect.last_name,
                                        phone=phone, note=note, action_code=self.codes.get(code)),
                           user, now=at)
            return Prospect.get_by_id(prospect.id)
        add_interaction(prospect, channel=channel, direction=direction, note=note, user=user,
                        action_code=self.codes.get(code), occurred_at=at, now=at)
        return prospect

    def _change_temperature(self, prospect: Prospect, at: datetime) -> None:
        order = ["cold", "warm", "hot"]
        index = order.index(prospect.temperature)
        warmer = index == 0 or (index < 2 and self.rng.random() < 0.6)
        new = order[index + 1] if warmer else order[index - 1]
        change_temperature(prospect, new, self.rng.choice(WARMER if warmer else COOLER), self.lead, now=at)

    def _catch_up_activity(self, prospect: Prospect, at: datetime) -> None:
        """Seed 000 as of `at`: record when the prospect went dormant, then lost, since its last contact."""
        status = activity_status(prospect.temperature, prospect.last_interaction_at, at, self.thresholds)
        if status in ("normal", prospect.activity_status):
            return
        dormant_from, lost_after = self.thresholds[prospect.temperature]
        last = prospect.last_interaction_at
        if prospect.activity_status == "normal":
            ActivityStatusChange.create(prospect=prospect, old="normal", new="dormant",
                                        changed_at=last + timedelta(days=dormant_from))
        if status == "lost":
            ActivityStatusChange.create(prospect=prospect, old="dormant", new="lost",
                                        changed_at=last + timedelta(days=lost_after + 1))
        prospect.activity_status = status
        prospect.save()

    def _close_or_advance(self, prospect: Prospect, times: list[datetime]) -> None:
        rng = self.rng
        idle = (self.now - times[-1]).days     # the long silent ones were mostly closed by the lead
        won, lost = (0.2, 0.4) if idle > 60 else (0.15, 0.2) if idle > 20 else (0.05, 0.03)
        draw = rng.random()
        if draw < won and self.won_stage and not prospect.do_not_contact:
            return self._win(prospect, times[-1])
        if self.lost_stage and (draw < won + lost or prospect.do_not_contact and rng.random() < 0.5):
            return self._lose(prospect, times[-1])
        last = len(self.open_stages) - 1
        target = min(last, rng.randint(0, min(len(times), last)))
        for step in range(1, target + 1):
            self._move(prospect, self.open_stages[step], times[min(step, len(times) - 1)], prospect.owner)
        if target:
            prospect.save()

    def _move(self, prospect: Prospect, stage: Stage, at: datetime, user, reason=None) -> None:
        StageChange.create(prospect=prospect, from_stage=prospect.stage, to_stage=stage, lost_reason=reason,
                           user=user, changed_at=at)
        prospect.stage, prospect.updated_at = stage, max(prospect.updated_at, at)

    def _before_now(self, last: datetime, wanted: datetime) -> datetime:
        """`wanted` if it is past; otherwise an opening-hours time between `last` and now (not all at "now")."""
        if wanted < self.now:
            return wanted
        for _ in range(5):
            at = next_opening(self.cal, last + (self.now - last) * self.rng.uniform(0.2, 0.9))
            if at < self.now:
                return at.replace(second=0, microsecond=0)
        return last

    def _win(self, prospect: Prospect, last: datetime) -> None:
        at = self._before_now(last, self._working_time(last + timedelta(days=self.rng.randint(1, 7))))
        add_interaction(prospect, channel="visit", direction="in", note="Venue pour sa première consultation",
                        user=prospect.owner, action_code=self.codes.get("VISITE"), occurred_at=at, now=at)
        self._done_followup(prospect, "appointment_reminder", "signed_up", at)
        self._move(prospect, self.won_stage, at, prospect.owner)
        prospect.outcome, prospect.converted_at = "won", at
        prospect.save()

    def _lose(self, prospect: Prospect, last: datetime) -> None:
        rng = self.rng
        at = self._before_now(last, self._working_time(last + timedelta(days=rng.randint(3, 20))))
        code = "do_not_contact" if prospect.do_not_contact else _pick(rng, LOST_WEIGHTS)
        reason = self.reasons.get(code) or rng.choice(list(self.reasons.values()))
        if reason.code == "do_not_contact" and not prospect.do_not_contact:
            set_do_not_contact(prospect, True, "Demande à ne plus être contactée", self.lead, now=at)
        if reason.code == "not_interested":
            self._done_followup(prospect, "qualify_call", "not_interested", at)
        self._move(prospect, self.lost_stage, at, self.lead, reason=reason)
        prospect.outcome, prospect.lost_reason = "lost", reason
        prospect.save()

    def _done_followup(self, prospect: Prospect, type_code: str, outcome: str, at: datetime) -> None:
        """Most closed prospects were closed through a follow-up (seed 002's outcomes 2 and 4)."""
        if self.rng.random() < 0.7:
            FollowUp.create(prospect=prospect, type=self.types.get(type_code), owner=prospect.owner,
                            due_at=at - timedelta(days=1), value=prospect.temperature, state="done",
                            outcome=outcome, done_at=at, done_by=prospect.owner, created_by=prospect.owner,
                            created_at=at - timedelta(days=3))

    # -- duplicates, patients, activity, follow-ups ---------------------------------------------
    def _mine(self):
        """The prospects this load created (a database may hold others)."""
        return Prospect.select().where(Prospect.id.in_(self.created))

    def _suspected_duplicates(self) -> None:
        """Two web-form requests giving one woman's phone and another's email: offered for merge."""
        open_ones = list(self._mine().where(Prospect.outcome == "open").order_by(Prospect.id))
        with_phone = [p for p in open_ones if p.phone]
        with_email = [p for p in open_ones if p.email and not p.phone]
        for one, other in zip(self.rng.sample(with_phone, 2), with_email[:2]):
            last = max(one.last_interaction_at, other.last_interaction_at)
            at = self._before_now(last, next_opening(self.cal, last + timedelta(hours=2)))
            record_contact(ContactInput(first_name=one.first_name, last_name=one.last_name,
                                        phone=one.phone_raw, email=other.email, channel="webform",
                                        note="Formulaire du site : redemande les tarifs"),
                           self.lead, now=min(at, self.now))
        # Family phones: a daughter writes from her mother's number (a new record, offered for review).
        mother = self.rng.choice([p for p in with_phone if p.first_name != "Fatou"])
        daughter = record_contact(
            ContactInput(first_name="Fatou", last_name=mother.last_name, phone=mother.phone_raw, channel="webform",
                         note="Formulaire du site : premier rendez-vous"),
            None, decision="suspect", now=self._before_now(
                mother.last_interaction_at, next_opening(self.cal, mother.last_interaction_at + timedelta(days=1))))
        if daughter.created:
            self.created.append(daughter.prospect.id)

    def _patients(self) -> None:
        """A dozen patients: eight converted prospects, four known only to the patient system."""
        rng = self.rng
        numbers = rng.sample(range(100, 2000), 12)
        converted = [p for p in self._mine().where(Prospect.outcome == "won").order_by(Prospect.id)
                     if p.phone and p.first_name in WOMEN]
        patients = [self._patient(numbers.pop(), p.first_name, p.last_name, p.phone_raw, p.email,
                                  p.birth_date, p.converted_at, p.origin_detail or "Bouche à oreille", p)
                    for p in rng.sample(converted, min(8, len(converted)))]
        while numbers:
            phone = _written(rng, self._unique(lambda: "77" + f"{rng.randint(0, 9999999):07d}"))
            at = self._working_time(self.now - timedelta(days=rng.uniform(30, DAYS_BACK)))
            patients.append(self._patient(numbers.pop(), rng.choice(WOMEN), rng.choice(LAST_NAMES), phone,
                                          None, self._birth_date(), at, "Patiente suivie"))
        self._uncertain_patients()
        for patient in rng.sample(patients, 6):     # patient first (seed 001): the call lands on her
            at = patient.created_at + (self.now - patient.created_at) * rng.uniform(0.3, 0.95)
            record_contact(ContactInput(first_name=patient.first_name, last_name=patient.last_name,
                                        phone=patient.phone_raw, note=rng.choice(PATIENT_CALLS),
                                        action_code=self.codes.get("APL ENT")),
                           rng.choice(self.secretaries), now=self._working_time(at))

    def _patient(self, number, first, last, phone_raw, email, birth, at, provenance, prospect=None):
        external_id = f"NEST-{number:06d}"
        phone = normalise_phone(phone_raw, self.region)
        patient = Patient.get_or_none(Patient.external_id == external_id) or Patient.create(
            external_id=external_id, source=DEMO_PATIENT_SOURCE, first_name=first, last_name=last,
            phone=phone.e164, phone_raw=phone.raw, email=email, birth_date=birth, provenance=provenance,
            admission_date=at.date(), created_at=at, updated_at=at,
            search_text=search_text(first, last, email, phone.digits, phone.digits.removeprefix("221"),
                                    phone.raw))
        if phone.e164:
            PatientPhone.get_or_create(patient=patient, phone=phone.e164)
        if prospect is not None:
            # Converted as reconciliation converts (issue 17): the patient, the provenance she stated, and
            # the match, which says what the conversion changed so that it can be undone.
            before = (StageChange.select().where((StageChange.prospect == prospect.id)
                                                 & (StageChange.to_outcome == "won"))
                      .order_by(StageChange.changed_at.desc()).first())
            prospect.patient = patient
            prospect.provenance = provenances.canonical(provenance)
            prospect.save()
            PatientMatch.get_or_create(patient=patient, prospect=prospect, defaults={
                "verdict": "certain", "reasons": ["phone", "name"], "state": "converted", "created_at": at,
                "decided_at": at, "note": "automatic",
                "detail": {"before": {"stage_id": before.from_stage_id if before else None,
                                      "outcome": (before.from_outcome if before else None) or "open",
                                      "lost_reason_id": None, "converted_at": None, "followups": [],
                                      "provenance": ""}}})
        return patient

    def _uncertain_patients(self) -> None:
        """Two new patients the lead must look at (reconciliation's review queue): a child admitted with
        her mother's number, and a prospect's namesake whose first and last names were swapped."""
        rng = self.rng
        open_ones = [p for p in self._mine().where((Prospect.outcome == "open") & Prospect.patient.is_null())
                     .order_by(Prospect.id) if p.phone and p.first_name in WOMEN]
        if len(open_ones) < 2:
            return
        mother, other = rng.sample(open_ones, 2)
        child = next(name for name in ("Aïda", "Fatou", "Khady") if name != mother.first_name)
        records = [PatientRecord(f"NEST-{2001:06d}", child, mother.last_name, (mother.phone_raw,),
                                 birth_date=self.now.date() - timedelta(days=400), provenance="Bouche-à-oreille",
                                 admission_date=self.now.date())]
        if other.birth_date is None:
            other.birth_date = self._birth_date()
            other.save()
        records.append(PatientRecord(f"NEST-{2002:06d}", other.last_name, other.first_name,
                                     (_written(rng, "78" + f"{rng.randint(0, 9999999):07d}"),),
                                     birth_date=other.birth_date, provenance="Facebook",
                                     admission_date=self.now.date()))
        reconcile.apply(DEMO_PATIENT_SOURCE, records, now=self.now)

    def _settle_activity_and_plan(self) -> None:
        """Statuses as of now (seed 000), then a next action planned by hand for most active prospects and
        a few dormant or lost ones (the rules' own follow-ups come from `_procedure_so_far` and the sweep);
        the others are "à faire" (seed 004)."""
        share = {"normal": 0.75, "dormant": 0.3, "lost": 0.1}
        for prospect in self._mine().where(Prospect.outcome == "open").order_by(Prospect.id):
            self._catch_up_activity(prospect, self.now)
            if not prospect.do_not_contact and self.rng.random() < share[prospect.activity_status]:
                self._plan(prospect)

    def _plan(self, prospect: Prospect) -> None:
        """A person's plan: an appointment booked for some who asked for one, else a call or documentation
        to send, mostly ahead, a few some days late (the "overdue" of a real day)."""
        rng = self.rng
        if prospect.qualification == "appointment" and prospect.temperature != "cold" and rng.random() < 0.5:
            code, comment = "appointment", "RDV avec la sage-femme"
            due = self._working_time(self.now + timedelta(days=rng.uniform(1, 10)), future=True)
        else:
            code, comment = rng.choice(["qualify_call", "send_documentation"]), rng.choice(MANUAL_COMMENTS)
            due = self._working_time(self.now + timedelta(days=rng.uniform(-3, 14)), future=True)
        planned_at = max(prospect.created_at, min(due, self.now) - timedelta(days=rng.uniform(1, 5)))
        FollowUp.create(prospect=prospect, type=self.types.get(code), owner=prospect.owner, due_at=due,
                        value="lost" if prospect.activity_status == "lost" else prospect.temperature,
                        comment=comment, created_by=prospect.owner, created_at=planned_at)
