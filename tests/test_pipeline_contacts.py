"""Contacts use cases (:mod:`tierslieux.pipeline.contacts`) called as a Python API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tierslieux.config import Settings
from tierslieux.pipeline import contacts as use_cases
from tierslieux.pipeline.database import demo_database_path
from tierslieux.store import StaleWriteError, UnknownStructureError, dispose_engine

CAE = "siret:12345678900011"
ASSO = "rna:W051000123"
STRUCTURES_CSV = (
    "identifiant,nom,categorie,code_commune\n"
    f"{CAE},CAE Alpes,cae,05061\n"
    f"{ASSO},Les Télé-actifs,association_teleactivites,05063\n"
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = f"sqlite:///{tmp_path / 'contacts.sqlite'}"
    value = Settings(offline=True, cache_dir=tmp_path / "cache", database_url=url)
    structures = tmp_path / "structures.csv"
    structures.write_text(STRUCTURES_CSV, encoding="utf-8")
    assert use_cases.load_structures(value, structures).inserted == 2
    yield value
    dispose_engine(url)


def test_follow_up_through_the_use_cases(settings: Settings) -> None:
    view = use_cases.set_status(settings, CAE, "intéressé", author="Alice", note="Appel")
    assert (view.status, view.version) == ("interesse", 2)
    use_cases.add_note(settings, CAE, "Réunion", author="Bob", expected_version=2)
    use_cases.set_next_action(settings, CAE, "Rappeler", date(2025, 3, 1), author="Bob")
    use_cases.set_owner(settings, ASSO, "Claire", author="Alice")
    with pytest.raises(StaleWriteError):
        use_cases.add_note(settings, CAE, "trop tard", author="Eve", expected_version=2)
    shown = use_cases.show_contact(settings, CAE)
    assert [event.kind for event in shown.history] == ["statut", "note", "prochaine_action"]
    assert [v.identifiant for v in use_cases.list_contacts(settings, owner="Claire")] == [ASSO]
    due = use_cases.list_contacts(settings, due_before=date(2025, 3, 1), details=True)
    assert [len(v.history) for v in due] == [3]
    with pytest.raises(UnknownStructureError):
        use_cases.show_contact(settings, "siret:0")


def test_people_and_csv_through_the_use_cases(settings: Settings, tmp_path: Path) -> None:
    person = use_cases.add_person(
        settings, CAE, name="Marie Dupont", consent_basis="intérêt légitime", email="m@x.fr"
    )
    use_cases.add_note(settings, CAE, "Appel de Marie Dupont", author="Alice")
    exported = use_cases.export_person(settings, person.id, tmp_path / "marie.json")
    assert (exported.people, exported.mentions) == (1, 1)
    assert json.loads(exported.path.read_text(encoding="utf-8"))["personnes"][0]["nom"] == (
        "Marie Dupont"
    )
    assert use_cases.forget_person(settings, "m@x.fr", author="DPO") == 1
    assert "Marie" not in (use_cases.show_contact(settings, CAE).history[0].text or "")
    report = use_cases.export_contacts(settings, tmp_path / "contacts.csv")
    assert (report.contacts, report.events) == (2, 2)
    again = use_cases.import_contacts(settings, report.path)
    assert (again.events_added, again.events_skipped) == (0, 2)


def test_demo_flag_uses_the_demo_store(settings: Settings, tmp_path: Path) -> None:
    demo = Settings(offline=True, cache_dir=tmp_path / "cache")
    structures = tmp_path / "structures.csv"
    try:
        assert use_cases.load_structures(demo, structures, demo=True).inserted == 2
        use_cases.add_note(demo, CAE, "fictif", author="Démo", demo=True)
        assert demo_database_path(demo).is_file()
        assert use_cases.show_contact(demo, CAE, demo=True).version == 2
        assert use_cases.show_contact(settings, CAE).version == 1
    finally:
        dispose_engine(f"sqlite:///{demo_database_path(demo)}")
