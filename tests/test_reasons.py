"""Rule reasons are stored as a code and parameters and said in the reader's language; old free text stays."""
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale

from webapp.models import FollowUp
from webapp.reasons import reason_text

REASONS = [
    ("first_answer", {"count": 2, "unit": "working_days"},
     "Première question sans réponse : répondre sous 2 jours ouvrés",
     "First question unanswered: answer within 2 working days"),
    ("answer_question", {"count": 48, "unit": "working_hours"},
     "Nouvelle question sans réponse : répondre sous 48 heures ouvrées",
     "New question unanswered: answer within 48 working hours"),
    ("hot_no_interaction_48h", {"hours": 48},
     "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV",
     "Hot with no interaction for 48 h: call to offer an appointment"),
    ("quote_callback_7d", {"sent_at": "2026-06-18T10:00:00", "days": 7},
     "Devis / tarifs envoyés le 18/06 : rappeler sous 7 jours",
     "Quote / prices sent on 6/18: call back within 7 days"),
    ("appointment_reminder", {"appointment_at": "2026-03-12T10:30:00"},
     "RDV du 12/03 à 10:30 : appeler pour le rappeler",
     "Appointment on 3/12 at 10:30\u202fAM: call to remind them"),  # CLDR: a narrow space before AM
    ("hot_no_interaction_48h", {"hours": 48, "planned_for": "2026-06-18T11:00:00"},
     "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV (prévu le 18/06, planifié au rattrapage)",
     "Hot with no interaction for 48 h: call to offer an appointment (due 6/18, planned on catch-up)"),
]


@pytest.mark.parametrize("code, params, french, english", REASONS, ids=[f"{r[0]}" for r in REASONS])
def test_a_rule_reason_is_shown_in_french_in_french_and_in_english_in_english(ctx, code, params, french, english):
    followup = FollowUp(rule=code, reason_code=code, reason_params=params, due_at=datetime(2026, 6, 20, 9))
    with force_locale("fr"):
        assert reason_text(followup) == french
    with force_locale("en"):
        assert reason_text(followup) == english


def test_an_old_free_text_reason_is_still_shown_as_it_was_written(ctx):
    old = FollowUp(rule="warm_qualify", rule_reason="Tiède : rappeler pour qualifier")
    with force_locale("en"):
        assert reason_text(old) == "Tiède : rappeler pour qualifier"
    late = FollowUp(rule="warm_qualify", rule_reason="Tiède : rappeler pour qualifier",
                    reason_params={"planned_for": "2026-06-18T11:00:00"})
    with force_locale("fr"):
        assert reason_text(late) == "Tiède : rappeler pour qualifier (prévu le 18/06, planifié au rattrapage)"


def test_a_follow_up_planned_by_hand_has_no_reason(ctx):
    assert reason_text(FollowUp(rule=None)) == ""


def test_ma_journee_says_a_rules_reason_and_the_answer_target_in_the_readers_language(app, client, make_user):
    from tests.conftest import login
    from webapp.models import Prospect, Stage, database
    from webapp.timeutil import utcnow

    lead = make_user("lead")
    with app.app_context(), database.connection_context():
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        prospect = Prospect.create(first_name="Awa", last_name="Diop", temperature="hot", stage=stage, owner=lead.id,
                                   first_contact_at=utcnow() - timedelta(hours=1))   # awaits its first answer
        FollowUp.create(prospect=prospect, owner=lead.id, due_at=utcnow(), value="hot", rule="hot_no_interaction_48h",
                        reason_code="hot_no_interaction_48h", reason_params={"hours": 48}, created_at=utcnow())
    login(client, lead)

    french = client.get("/my-day").get_data(as_text=True)
    client.post("/language", data={"locale": "en"})
    english = client.get("/my-day").get_data(as_text=True)

    assert "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV" in french
    assert "Hot with no interaction for 48 h: call to offer an appointment" in english
    assert "Objectif : 2 jours ouvrés" in french and "Target: 2 working days" in english
