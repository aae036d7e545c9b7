"""The manager's pipeline stages: add, rename, reorder, re-kind, retire, restore, delete, and their rules."""
import re

import pytest

from tests import factories as make
from tests.conftest import login, make_app
from webapp.models import AuditEvent, Prospect, Stage, StageChange, database
from webapp.services import stages as service

XSS = "<script>alert(1)</script>"
DEFAULT_ORDER = ["Nouveau", "En qualification", "RDV programmé", "Devis / proposition envoyée", "Promesse",
                 "Converti", "Perdu"]


def stage(db, name) -> Stage:
    return db(lambda: Stage.get(Stage.name == name))


def board(db) -> list[str]:
    """The live stages' names in board order."""
    return db(lambda: [s.name for s in Stage.select().where(~Stage.retired).order_by(Stage.position)])


def snapshot(db) -> list[tuple]:
    return db(lambda: list(Stage.select(Stage.id, Stage.name, Stage.kind, Stage.position, Stage.retired)
                           .order_by(Stage.id).tuples()))


def positions_are_dense(db) -> bool:
    return db(lambda: sorted(s.position for s in Stage.select())) == list(range(db(Stage.select().count)))


def move_prospect(db, prospect: Prospect, to: str) -> None:
    """What the board does when a prospect changes column: the stage, its outcome, the history."""
    def run():
        target = Stage.get(Stage.name == to)
        fresh = Prospect.get_by_id(prospect.id)
        StageChange.create(prospect=fresh, from_stage=fresh.stage, to_stage=target)
        fresh.stage, fresh.outcome = target, target.kind
        fresh.save()
    db(run)


def row(page: str, stage_id: int) -> str:
    """The settings table's row of one stage."""
    return re.search(rf'<tr[^>]*>(?:(?!</tr>).)*name="stage_id" value="{stage_id}".*?</tr>', page, re.S).group(0)


def refused(response) -> str:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in page
    return re.search(r'class="flash flash-error" role="alert">([^<]*)<', page).group(1)


# -- the page -----------------------------------------------------------------------------------

def test_the_manager_sees_the_stages_in_board_order_with_kinds_in_words_and_counts(manager, db):
    db(make.prospect)
    db(lambda: make.prospect(last_name="Sarr"))
    page = manager.get("/settings/stages").get_data(as_text=True)
    names = [n for n in DEFAULT_ORDER if n in page]
    assert names == DEFAULT_ORDER
    assert sorted(page.index(n) for n in DEFAULT_ORDER) == [page.index(n) for n in DEFAULT_ORDER]
    assert ">Won</option>" in page and ">Lost</option>" in page and ">Open</option>" in page
    assert '<td class="num">2</td>' in row(page, stage(db, "Nouveau").id)  # both new prospects
    assert "Move up" in page and "Move down" in page and 'name="csrf_token"' in page


def test_the_settings_link_shows_for_the_manager_only(as_role, make_user, app):
    assert 'href="/settings/stages"' in as_role("manager").get("/prospects").get_data(as_text=True)
    for role in ("secretary", "lead"):
        client = app.test_client()
        login(client, make_user(role))
        assert 'href="/settings/stages"' not in client.get("/prospects").get_data(as_text=True)


def test_the_first_stage_cannot_move_up_nor_the_last_move_down(manager):
    page = manager.get("/settings/stages").get_data(as_text=True)
    assert page.count('value="up"') == len(DEFAULT_ORDER) - 1
    assert page.count('value="down"') == len(DEFAULT_ORDER) - 1


def test_the_page_shows_a_hostile_stage_name_as_text(manager, db):
    db(lambda: service.add_stage(XSS, "open"))
    body = manager.get("/settings/stages").get_data(as_text=True)
    assert XSS not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_hostile_stage_name_is_escaped_in_the_flash_too(manager):
    response = manager.post("/settings/stages", data={"name": XSS, "kind": "open"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert XSS not in body and "&lt;script&gt;" in body


# -- adding and renaming ------------------------------------------------------------------------

def test_the_manager_adds_an_open_stage_after_the_last_open_one(manager, db):
    response = manager.post("/settings/stages", data={"name": "  Relance   finale ", "kind": "open"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings/stages")
    assert board(db) == DEFAULT_ORDER[:5] + ["Relance finale"] + DEFAULT_ORDER[5:]
    assert positions_are_dense(db)
    added = stage(db, "Relance finale")
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "stage.create")
                                                & (AuditEvent.record_id == added.id)).exists())
    assert "Relance finale" in manager.get("/settings/stages").get_data(as_text=True)


def test_a_won_stage_is_added_last(manager, db):
    manager.post("/settings/stages", data={"name": "Inscrit", "kind": "won"})
    assert board(db) == DEFAULT_ORDER + ["Inscrit"]
    assert stage(db, "Inscrit").kind == "won"


def test_the_manager_renames_a_stage_and_the_rename_is_audited(manager, db):
    target = stage(db, "Promesse")
    response = manager.post("/settings/stages/rename", data={"stage_id": target.id, "name": "Engagement"})
    assert response.status_code == 302
    assert stage(db, "Engagement").id == target.id
    event = db(lambda: AuditEvent.get(AuditEvent.action == "stage.rename"))
    assert event.record_id == target.id and event.detail == "Promesse -> Engagement"


@pytest.mark.parametrize("name", ["nouveau", "NOUVEAU ", "  Perdu"])
def test_a_name_already_on_the_board_is_refused_whatever_its_case(manager, db, name):
    before = snapshot(db)
    assert "already called" in refused(manager.post("/settings/stages", data={"name": name, "kind": "open"}))
    target = stage(db, "Promesse")
    refused(manager.post("/settings/stages/rename", data={"stage_id": target.id, "name": name}))
    assert snapshot(db) == before


@pytest.mark.parametrize("name, words", [("", "name"), ("   ", "name"), ("x" * 61, "60")])
def test_an_empty_or_too_long_name_is_refused(manager, db, name, words):
    before = snapshot(db)
    assert words in refused(manager.post("/settings/stages", data={"name": name, "kind": "open"}))
    target = stage(db, "Promesse")
    assert words in refused(manager.post("/settings/stages/rename", data={"stage_id": target.id, "name": name}))
    assert snapshot(db) == before


def test_a_name_of_sixty_characters_is_accepted(manager, db):
    assert manager.post("/settings/stages", data={"name": "x" * 60, "kind": "open"}).status_code == 302


def test_an_unknown_kind_is_refused(manager, db):
    before = snapshot(db)
    refused(manager.post("/settings/stages", data={"name": "Autre", "kind": "maybe"}))
    refused(manager.post("/settings/stages/kind", data={"stage_id": stage(db, "Promesse").id, "kind": "maybe"}))
    assert snapshot(db) == before


def test_an_unknown_stage_is_not_found(manager):
    assert manager.post("/settings/stages/rename", data={"stage_id": "9999", "name": "X"}).status_code == 404
    assert manager.post("/settings/stages/retire", data={"stage_id": "abc"}).status_code == 404


# -- reordering ---------------------------------------------------------------------------------

def test_the_manager_moves_a_stage_up_and_down_and_positions_stay_dense(manager, db):
    promesse = stage(db, "Promesse")
    assert manager.post("/settings/stages/move", data={"stage_id": promesse.id, "direction": "up"}).status_code == 302
    assert board(db) == ["Nouveau", "En qualification", "RDV programmé", "Promesse",
                         "Devis / proposition envoyée", "Converti", "Perdu"]
    manager.post("/settings/stages/move", data={"stage_id": promesse.id, "direction": "down"})
    manager.post("/settings/stages/move", data={"stage_id": promesse.id, "direction": "down"})
    assert board(db) == ["Nouveau", "En qualification", "RDV programmé", "Devis / proposition envoyée",
                         "Converti", "Promesse", "Perdu"]
    assert positions_are_dense(db)
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "stage.move").count()) == 3


def test_moving_past_either_end_is_refused(manager, db):
    before = snapshot(db)
    refused(manager.post("/settings/stages/move", data={"stage_id": stage(db, "Nouveau").id, "direction": "up"}))
    refused(manager.post("/settings/stages/move", data={"stage_id": stage(db, "Perdu").id, "direction": "down"}))
    refused(manager.post("/settings/stages/move", data={"stage_id": stage(db, "Promesse").id,
                                                        "direction": "sideways"}))
    assert snapshot(db) == before


def test_a_move_skips_retired_stages_so_it_always_changes_the_board(manager, db):
    db(lambda: service.retire_stage(stage(db, "RDV programmé")))
    manager.post("/settings/stages/move", data={"stage_id": stage(db, "Devis / proposition envoyée").id,
                                                "direction": "up"})
    assert board(db) == ["Nouveau", "Devis / proposition envoyée", "En qualification", "Promesse",
                         "Converti", "Perdu"]
    assert positions_are_dense(db)


def test_new_prospects_land_in_the_first_open_stage_after_a_reorder(manager, db):
    qualification = stage(db, "En qualification")
    manager.post("/settings/stages/move", data={"stage_id": qualification.id, "direction": "up"})
    assert board(db)[:2] == ["En qualification", "Nouveau"]
    assert db(make.prospect).stage_id == qualification.id


def test_new_prospects_skip_a_first_stage_that_is_won_or_retired(manager, db):
    converti = stage(db, "Converti")
    for _ in range(5):
        manager.post("/settings/stages/move", data={"stage_id": converti.id, "direction": "up"})
    assert board(db)[0] == "Converti"
    manager.post("/settings/stages/retire", data={"stage_id": stage(db, "Nouveau").id})
    assert db(make.prospect).stage_id == stage(db, "En qualification").id
    assert [s.name for s in db(service.open_stages)][0] == "En qualification"


# -- kinds --------------------------------------------------------------------------------------

def test_the_manager_marks_a_stage_won_and_another_lost(manager, db):
    manager.post("/settings/stages", data={"name": "Inscrit", "kind": "open"})
    manager.post("/settings/stages", data={"name": "Abandon", "kind": "open"})
    manager.post("/settings/stages/kind", data={"stage_id": stage(db, "Inscrit").id, "kind": "won"})
    manager.post("/settings/stages/kind", data={"stage_id": stage(db, "Abandon").id, "kind": "lost"})
    assert stage(db, "Inscrit").kind == "won" and stage(db, "Abandon").kind == "lost"
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "stage.kind").count()) == 2


def test_a_stage_holding_open_prospects_cannot_become_won(manager, db):
    db(make.prospect)
    db(lambda: make.prospect(last_name="Sarr"))
    before = snapshot(db)
    message = refused(manager.post("/settings/stages/kind", data={"stage_id": stage(db, "Nouveau").id,
                                                                  "kind": "won"}))
    assert "2 prospects" in message
    assert snapshot(db) == before


# -- the stages the board needs -----------------------------------------------------------------

@pytest.mark.parametrize("kind, name", [("won", "Converti"), ("lost", "Perdu")])
def test_the_last_won_or_lost_stage_cannot_be_retired_deleted_or_re_kinded(manager, db, kind, name):
    before = snapshot(db)
    last = stage(db, name)
    for path, data in (("retire", {}), ("delete", {}), ("kind", {"kind": "open"})):
        message = refused(manager.post(f"/settings/stages/{path}", data={"stage_id": last.id, **data}))
        assert f"one {kind} stage" in message
    assert snapshot(db) == before


def test_the_last_open_stage_cannot_be_retired_or_re_kinded(manager, db):
    for name in DEFAULT_ORDER[1:5]:
        assert manager.post("/settings/stages/retire", data={"stage_id": stage(db, name).id}).status_code == 302
    before = snapshot(db)
    last = stage(db, "Nouveau")
    for path, data in (("retire", {}), ("delete", {}), ("kind", {"kind": "won"})):
        message = refused(manager.post(f"/settings/stages/{path}", data={"stage_id": last.id, **data}))
        assert "one open stage" in message
    assert snapshot(db) == before


def test_a_second_won_stage_lets_the_first_be_re_kinded(manager, db):
    manager.post("/settings/stages", data={"name": "Inscrit", "kind": "won"})
    response = manager.post("/settings/stages/kind", data={"stage_id": stage(db, "Converti").id, "kind": "open"})
    assert response.status_code == 302 and stage(db, "Converti").kind == "open"


# -- retiring, restoring, deleting --------------------------------------------------------------

def test_the_manager_retires_an_unused_stage_and_restores_it(manager, db):
    promesse = stage(db, "Promesse")
    assert manager.post("/settings/stages/retire", data={"stage_id": promesse.id}).status_code == 302
    assert stage(db, "Promesse").retired
    assert "Promesse" not in board(db) and positions_are_dense(db)
    page = manager.get("/settings/stages").get_data(as_text=True)
    assert "Retired" in page and "Restore" in page

    assert manager.post("/settings/stages/restore", data={"stage_id": promesse.id}).status_code == 302
    assert not stage(db, "Promesse").retired
    assert board(db) == DEFAULT_ORDER  # back after the last open stage
    assert positions_are_dense(db)
    assert db(lambda: [e.action for e in AuditEvent.select().where(AuditEvent.record_id == promesse.id)
                       .where(AuditEvent.action.startswith("stage.")).order_by(AuditEvent.id)]) \
        == ["stage.retire", "stage.restore"]


def test_retiring_a_stage_with_open_prospects_is_refused_with_the_count(manager, db):
    for name in ("Diop", "Sarr", "Fall"):
        db(lambda: make.prospect(last_name=name))
    before = snapshot(db)
    message = refused(manager.post("/settings/stages/retire", data={"stage_id": stage(db, "Nouveau").id}))
    assert "3 open prospects" in message and "Nouveau" in message
    assert snapshot(db) == before


def test_a_stage_holding_prospects_cannot_be_deleted_and_is_still_there_after(manager, db):
    db(make.prospect)
    nouveau = stage(db, "Nouveau")
    page = manager.get("/settings/stages").get_data(as_text=True)
    assert "/settings/stages/delete" not in row(page, nouveau.id)
    assert "/settings/stages/delete" in row(page, stage(db, "Promesse").id)
    before = snapshot(db)
    message = refused(manager.post("/settings/stages/delete", data={"stage_id": nouveau.id}))
    assert "retire it instead" in message
    assert snapshot(db) == before
    assert db(lambda: Stage.get_or_none(Stage.id == nouveau.id)) is not None


def test_a_stage_whose_prospects_are_all_won_can_be_retired_but_not_deleted(manager, db):
    prospect = db(make.prospect)
    move_prospect(db, prospect, "Converti")
    manager.post("/settings/stages", data={"name": "Inscrit", "kind": "won"})  # the board still has one
    converti = stage(db, "Converti")
    assert manager.post("/settings/stages/retire", data={"stage_id": converti.id}).status_code == 302
    assert stage(db, "Converti").retired
    assert db(lambda: Prospect.get_by_id(prospect.id).stage_id) == converti.id  # the prospect stays
    refused(manager.post("/settings/stages/delete", data={"stage_id": converti.id}))
    assert db(lambda: Stage.get_or_none(Stage.id == converti.id)) is not None


def test_a_stage_prospects_have_passed_through_cannot_be_deleted(manager, db):
    prospect = db(make.prospect)
    move_prospect(db, prospect, "En qualification")
    move_prospect(db, prospect, "RDV programmé")
    passed = stage(db, "En qualification")
    assert db(lambda: Prospect.select().where(Prospect.stage == passed.id).count()) == 0
    page = manager.get("/settings/stages").get_data(as_text=True)
    assert "/settings/stages/delete" not in row(page, passed.id)
    refused(manager.post("/settings/stages/delete", data={"stage_id": passed.id}))
    assert db(lambda: Stage.get_or_none(Stage.id == passed.id)) is not None


def test_an_unused_stage_can_be_deleted(manager, db):
    manager.post("/settings/stages", data={"name": "Essai", "kind": "open"})
    essai = stage(db, "Essai")
    assert 'settings/stages/delete' in manager.get("/settings/stages").get_data(as_text=True)
    response = manager.post("/settings/stages/delete", data={"stage_id": essai.id})
    assert response.status_code == 302
    assert db(lambda: Stage.get_or_none(Stage.id == essai.id)) is None
    assert board(db) == DEFAULT_ORDER and positions_are_dense(db)
    assert db(lambda: AuditEvent.get(AuditEvent.action == "stage.delete").detail) == "Essai"


def test_a_retired_stage_whose_name_was_reused_cannot_be_restored(manager, db):
    promesse = stage(db, "Promesse")
    manager.post("/settings/stages/retire", data={"stage_id": promesse.id})
    manager.post("/settings/stages", data={"name": "promesse", "kind": "open"})
    before = snapshot(db)
    assert "already called" in refused(manager.post("/settings/stages/restore", data={"stage_id": promesse.id}))
    assert snapshot(db) == before


# -- who may ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["secretary", "lead", "admin"])
def test_other_roles_get_403_on_every_settings_action_and_nothing_changes(as_role, db, role):
    db(lambda: service.add_stage("Essai", "open"))
    db(lambda: service.retire_stage(Stage.get(Stage.name == "Promesse")))
    client = as_role(role)
    target, retired = stage(db, "Essai"), stage(db, "Promesse")
    before, audits = snapshot(db), db(lambda: AuditEvent.select().where(AuditEvent.action.startswith("stage.")).count())
    assert client.get("/settings/stages").status_code == 403
    for path, data in [("", {"name": "Pirate", "kind": "open"}),
                       ("/rename", {"stage_id": target.id, "name": "Pirate"}),
                       ("/move", {"stage_id": target.id, "direction": "up"}),
                       ("/kind", {"stage_id": target.id, "kind": "lost"}),
                       ("/retire", {"stage_id": target.id}),
                       ("/restore", {"stage_id": retired.id}),
                       ("/delete", {"stage_id": target.id})]:
        assert client.post(f"/settings/stages{path}", data=data).status_code == 403, path
    assert snapshot(db) == before
    assert db(lambda: AuditEvent.select().where(AuditEvent.action.startswith("stage.")).count()) == audits
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "refused").count()) >= 8


def test_a_settings_post_without_the_csrf_token_is_refused(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context(), database.connection_context():
        user = make.user("manager", email="manager@clinic.test", name="Manager")
    client = app.test_client()
    token = re.search(rb'name="csrf-token" content="([^"]+)"', client.get("/login").data).group(1).decode()
    client.post("/login", data={"email": user.email, "password": "correct-horse-42", "csrf_token": token})
    assert client.post("/settings/stages", data={"name": "Sans jeton", "kind": "open"}).status_code == 400
    with app.app_context(), database.connection_context():
        assert not Stage.select().where(Stage.name == "Sans jeton").exists()


# -- the service on each database ---------------------------------------------------------------

def test_every_change_keeps_positions_dense_on_each_database(any_ctx):
    added = service.add_stage("Relance", "open")
    service.move_stage(added, "up")
    service.retire_stage(Stage.get(Stage.name == "Nouveau"))
    service.add_stage("Inscrit", "won")
    service.restore_stage(Stage.get(Stage.name == "Nouveau"))
    service.delete_stage(Stage.get(Stage.name == "Inscrit"))
    stages = service.ordered_stages()
    assert [s.position for s in stages] == list(range(len(stages)))
    assert [s.name for s in stages] == ["En qualification", "RDV programmé", "Devis / proposition envoyée",
                                        "Relance", "Promesse", "Nouveau", "Converti", "Perdu"]
    with pytest.raises(service.StageError) as refusal:
        service.rename_stage(added, "promesse")
    assert refusal.value.code == "name_taken"
