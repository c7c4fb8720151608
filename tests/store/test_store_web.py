"""The web application's tables: users, saved scenarios, runs and their results."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tierslieux.store import (
    InvalidValueError,
    Repositories,
    StaleRecordError,
    UnknownRecordError,
    hash_password,
    needs_rehash,
    verify_password,
)

PASSWORD = "un mot de passe"  # noqa: S105  (test data, not a secret)
SHORT = "court"  # too short to be accepted

# -- users ---------------------------------------------------------------------------


def test_password_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$v=19$")
    assert first != second
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", None)
    assert not verify_password("correct horse", "scrypt$1$2")
    assert not verify_password("correct horse", "scrypt$16384$8$1$!!$??")
    assert not verify_password("correct horse", "$argon2id$v=19$broken")


def test_scrypt_hashes_of_the_first_versions_still_verify_and_need_a_rehash() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"correct horse", salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = "scrypt$16384$8$1$" + "$".join(
        base64.b64encode(part).decode("ascii") for part in (salt, digest)
    )
    assert verify_password("correct horse", legacy)
    assert not verify_password("wrong horse", legacy)
    assert needs_rehash(legacy)
    assert not needs_rehash(hash_password("correct horse"))


def test_add_get_and_set_role(store: Repositories) -> None:
    user = store.users.add_user(
        "alice",
        display_name="Alice Martin",
        role="Chargé de mission",
        email="Alice@Example.org",
        password=PASSWORD,
    )
    assert (user.login, user.role, user.active, user.has_password) == (
        "alice",
        "charge_de_mission",
        True,
        True,
    )
    assert store.users.get_user("ALICE") == user
    assert store.users.get_user("alice@example.org").id == user.id
    assert store.users.get_user(user.id).display_name == "Alice Martin"
    promoted = store.users.set_role("alice", "administrateur")
    assert promoted.role == "administrateur"
    assert promoted.updated_at >= user.updated_at
    assert store.users.authenticate("alice", PASSWORD) == promoted
    assert store.users.authenticate("alice", "mauvais") is None
    store.users.set_active("alice", active=False)
    assert store.users.authenticate("alice", PASSWORD) is None
    assert [u.login for u in store.users.list_users()] == ["alice"]


def test_users_are_validated(store: Repositories) -> None:
    store.users.add_user("bob", display_name="Bob", role="lecteur")
    assert store.users.get_user("bob").has_password is False
    with pytest.raises(InvalidValueError, match="déjà pris"):
        store.users.add_user("BOB", display_name="Autre Bob", role="lecteur")
    with pytest.raises(InvalidValueError, match="Rôle inconnu"):
        store.users.add_user("carole", display_name="Carole", role="superviseur")
    with pytest.raises(InvalidValueError, match="trop court"):
        store.users.add_user("dan", display_name="Dan", role="lecteur", password=SHORT)
    with pytest.raises(InvalidValueError, match="nom affiché"):
        store.users.add_user("eve", display_name=" ", role="lecteur")
    with pytest.raises(UnknownRecordError):
        store.users.get_user("personne")
    with pytest.raises(UnknownRecordError):
        store.users.set_role("personne", "lecteur")
    assert [u.login for u in store.users.list_users()] == ["bob"]


# -- scenarios -----------------------------------------------------------------------


def test_scenario_round_trip_and_stale_write(store: Repositories) -> None:
    saved = store.scenarios.save_scenario(
        "Hautes-Alpes rural",
        "dep:05",
        {"minutes": 20, "rural": True, "definition": "centre"},
        author="alice",
    )
    assert (saved.version, saved.parameters["minutes"]) == (1, 20)
    assert store.scenarios.get_scenario(saved.id) == saved
    changed = store.scenarios.update_scenario(
        saved.id, author="bob", expected_version=1, parameters={"minutes": 25}
    )
    assert (changed.version, changed.parameters, changed.updated_by) == (
        2,
        {"minutes": 25},
        "bob",
    )
    assert changed.name == "Hautes-Alpes rural"
    with pytest.raises(StaleRecordError, match="bob") as caught:
        store.scenarios.update_scenario(saved.id, author="alice", expected_version=1, name="X")
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)
    assert store.scenarios.get_scenario(saved.id).name == "Hautes-Alpes rural"
    other = store.scenarios.save_scenario("Queyras", "epci:200067825", None, author="bob")
    assert [s.id for s in store.scenarios.list_scenarios(author="bob")] == [other.id]
    assert len(store.scenarios.list_scenarios()) == 2
    store.scenarios.delete_scenario(saved.id)
    with pytest.raises(UnknownRecordError):
        store.scenarios.get_scenario(saved.id)


def test_scenario_fields_are_validated(store: Repositories) -> None:
    with pytest.raises(InvalidValueError, match="JSON"):
        store.scenarios.save_scenario("A", "dep:05", {"x": object()}, author="alice")
    with pytest.raises(InvalidValueError, match="territoire"):
        store.scenarios.save_scenario("A", " ", {}, author="alice")
    with pytest.raises(InvalidValueError, match="auteur"):
        store.scenarios.save_scenario("A", "dep:05", {}, author="")
    assert store.scenarios.list_scenarios() == []


# -- runs ----------------------------------------------------------------------------


def test_run_lifecycle_progress_and_results(store: Repositories) -> None:
    scenario = store.scenarios.save_scenario("S", "dep:05", {}, author="alice")
    run = store.runs.create_run(
        "diagnose", {"territory": "dep:05"}, author="alice", scenario_id=scenario.id
    )
    assert (run.status, run.progress, run.finished, run.started_at) == ("queued", 0.0, False, None)
    store.runs.start_run(run.id)
    halfway = store.runs.report_progress(run.id, 0.5, "Bassins de vie")
    assert (halfway.status, halfway.progress, halfway.step) == ("running", 0.5, "Bassins de vie")
    with pytest.raises(InvalidValueError, match="0–1"):
        store.runs.report_progress(run.id, 1.5)
    csv_bytes = b"code;nom\n05061;Embrun\n"
    result = store.runs.add_result(run.id, "communes.csv", csv_bytes, media_type="text/csv")
    assert (result.size, len(result.sha256)) == (len(csv_bytes), 64)
    with pytest.raises(InvalidValueError, match="déjà un résultat"):
        store.runs.add_result(run.id, "communes.csv", b"", media_type="text/csv")
    done = store.runs.finish_run(
        run.id, summary={"communes": 1}, vintages={"communes": "2024", "mobpro": "2021"}
    )
    assert (done.status, done.progress, done.finished) == ("done", 1.0, True)
    assert done.summary == {"communes": 1}
    assert done.vintages == {"communes": "2024", "mobpro": "2021"}
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.started_at <= done.finished_at
    with pytest.raises(InvalidValueError, match="ne peut pas passer"):
        store.runs.cancel_run(run.id)
    assert store.runs.read_result(run.id, "communes.csv") == csv_bytes
    assert [r.name for r in store.runs.list_results(run.id)] == ["communes.csv"]
    with pytest.raises(UnknownRecordError):
        store.runs.read_result(run.id, "absent.csv")
    assert [r.id for r in store.runs.list_runs(status="done", scenario_id=scenario.id)] == [run.id]
    # Deleting the scenario keeps the run, unlinked.
    store.scenarios.delete_scenario(scenario.id)
    assert store.runs.get_run(run.id).scenario_id is None


def test_failed_and_cancelled_runs(store: Repositories) -> None:
    failed = store.runs.create_run("sites", {})
    store.runs.start_run(failed.id)
    assert store.runs.fail_run(failed.id, "Solveur interrompu").error == "Solveur interrompu"
    cancelled = store.runs.create_run("communities")
    assert store.runs.cancel_run(cancelled.id).status == "cancelled"
    with pytest.raises(InvalidValueError):
        store.runs.start_run(cancelled.id)
    with pytest.raises(InvalidValueError, match="ne peut pas passer"):
        store.runs.report_progress(cancelled.id, 0.1)
    with pytest.raises(UnknownRecordError):
        store.runs.get_run("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidValueError):
        store.runs.create_run(" ")
    assert {r.status for r in store.runs.list_runs()} == {"failed", "cancelled"}
    assert [r.id for r in store.runs.list_runs(kind="sites")] == [failed.id]


# -- one read per request on a project ------------------------------------------------


def test_visit_reads_the_user_the_project_and_the_membership(store: Repositories) -> None:
    alice = store.users.add_user("alice", display_name="Alice", role="charge_de_mission")
    bob = store.users.add_user("bob", display_name="Bob", role="lecteur")
    project = store.projects.add_project(
        "Essai", territory="dep:00", territory_label="Démo", actor="test"
    )
    store.projects.add_member(project.id, alice.id, actor="test")
    visit = store.projects.visit(project.id, alice.id)
    assert (visit.user, visit.project, visit.member) == (alice, project, True)
    assert store.projects.visit(project.id, bob.id).member is False
    assert store.projects.visit(project.id + 1, alice.id).project is None
    unknown = store.projects.visit(project.id, bob.id + 100)
    assert (unknown.user, unknown.project, unknown.member) == (None, None, False)
    # What changed is seen by the next visit: nothing is kept between reads.
    store.projects.remove_member(project.id, alice.id, actor="test")
    store.users.set_active(alice.id, active=False)
    visit = store.projects.visit(project.id, alice.id)
    assert visit.user is not None
    assert (visit.user.active, visit.member) == (False, False)


def test_latest_done_and_pending_runs_of_a_project(store: Repositories) -> None:
    project = store.projects.add_project(
        "Essai", territory="dep:00", territory_label="Démo", actor="test"
    ).id
    other = store.projects.add_project(
        "Autre", territory="dep:00", territory_label="Démo", actor="test"
    ).id
    assert store.runs.latest_done_run(project, "communities") is None
    assert store.runs.latest_pending_run(project, "communities") is None

    def finished(kind: str, on: int) -> str:
        run = store.runs.create_run(kind, project=on)
        store.runs.start_run(run.id)
        return store.runs.finish_run(run.id, summary={}).id

    first = finished("communities", project)
    second = finished("communities", project)
    finished("sites", project)
    finished("communities", other)
    failed = store.runs.create_run("communities", project=project)
    store.runs.fail_run(failed.id, "erreur")
    latest = store.runs.latest_done_run(project, "communities")
    assert latest is not None
    assert latest.id == second != first
    assert store.runs.latest_pending_run(project, "communities") is None
    queued = store.runs.create_run("communities", project=project)
    store.runs.create_run("sites", project=project)
    pending = store.runs.latest_pending_run(project, "communities")
    assert pending is not None
    assert pending.id == queued.id
    assert store.runs.latest_pending_run(other, "communities") is None
    # The same answers as reading every run of the project.
    runs = store.runs.project_runs(project, kind="communities")
    assert (
        latest.id
        == max((r for r in runs if r.status == "done"), key=lambda r: (r.finished_at, r.id)).id
    )
    assert pending.id == next(r for r in runs if not r.finished).id


def test_dataset_stamps_tell_when_an_input_file_changed(store: Repositories) -> None:
    project = store.projects.add_project(
        "Essai", territory="dep:00", territory_label="Démo", actor="test"
    ).id
    assert store.projects.dataset_stamps(project) == ()
    for role in ("zonages", "communes"):
        store.projects.put_dataset(
            project,
            role=role,
            filename=f"{role}.csv",
            media_type="text/csv",
            content=b"code\n00101\n",
            summary={"lignes": 1},
            actor="test",
        )
    stamps = store.projects.dataset_stamps(project)
    assert stamps == tuple((d.role, d.uploaded_at) for d in store.projects.datasets(project))
    assert [role for role, _at in stamps] == ["communes", "zonages"]
    store.projects.put_dataset(
        project,
        role="communes",
        filename="communes.csv",
        media_type="text/csv",
        content=b"code\n00102\n",
        summary=None,
        actor="test",
    )
    assert store.projects.dataset_stamps(project) != stamps
