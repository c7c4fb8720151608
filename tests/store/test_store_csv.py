"""CSV export and import of contact records and their history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from store_sample import ASSO, CAE, PARC

from tierslieux.store import ImportRejectedError, InvalidValueError, Repositories


def _fill(store: Repositories) -> None:
    store.contacts.set_status(CAE, "contacte", author="alice", note="Premier appel ; à suivre")
    store.contacts.add_note(CAE, 'Réunion "ouverte", 12 personnes\nsur deux lignes', author="bob")
    store.contacts.set_next_action(CAE, "Envoyer la convention", date(2025, 4, 15), author="bob")
    store.contacts.set_owner(ASSO, "Claire Martin", author="alice")
    store.contacts.set_status(ASSO, "pas intéressé", author="claire")


def _snapshot(store: Repositories) -> list[object]:
    return list(store.contacts.list_contacts(details=True))


def test_export_then_import_in_a_fresh_store_gives_the_same_state(
    make_store: Callable[[], Repositories], tmp_path: Path
) -> None:
    source = make_store()
    _fill(source)
    path = tmp_path / "contacts.csv"
    report = source.contacts.export_csv(path)
    assert (report.contacts, report.events) == (3, 5)
    target = make_store()
    imported = target.contacts.import_csv(path)
    assert (imported.events_added, imported.events_skipped, imported.contacts_updated) == (5, 0, 2)
    assert imported.state_rows == 3
    assert imported.warnings == ()
    assert _snapshot(target) == _snapshot(source)


def test_reimport_adds_nothing(store: Repositories, tmp_path: Path) -> None:
    _fill(store)
    path = tmp_path / "contacts.csv"
    store.contacts.export_csv(path)
    before = _snapshot(store)
    report = store.contacts.import_csv(path)
    assert (report.events_added, report.events_skipped, report.contacts_updated) == (0, 5, 0)
    assert store.contacts.import_csv(path).events_added == 0
    assert _snapshot(store) == before


def test_import_merges_with_local_changes(
    make_store: Callable[[], Repositories], tmp_path: Path
) -> None:
    source, target = make_store(), make_store()
    _fill(source)
    path = tmp_path / "contacts.csv"
    source.contacts.export_csv(path)
    target.contacts.add_note(PARC, "Note locale", author="dora")
    target.contacts.set_owner(CAE, "Dora", author="dora")  # later than the exported events
    report = target.contacts.import_csv(path)
    assert report.events_added == 5
    cae = target.contacts.get_contact(CAE)
    assert (cae.status, cae.owner) == ("contacte", "Dora")
    assert cae.version == 1 + len(cae.history) == 5
    assert len(target.contacts.get_contact(PARC).history) == 1


def test_merge_that_would_break_the_status_chain_is_refused(
    make_store: Callable[[], Repositories], tmp_path: Path
) -> None:
    """The history « à contacter → contacté » then « à contacter → intéressé » is impossible."""
    source, target = make_store(), make_store()
    _fill(source)
    path = tmp_path / "contacts.csv"
    source.contacts.export_csv(path)
    target.contacts.set_status(CAE, "interesse", author="dora")  # later than the exported events
    before = _snapshot(target)
    with pytest.raises(ImportRejectedError, match="changement de statut impossible") as caught:
        target.contacts.import_csv(path)
    assert caught.value.issues[0].column == "date (N)"
    assert "« à contacter → intéressé » enregistré" in caught.value.issues[0].message
    assert _snapshot(target) == before


def test_hand_written_comma_file_without_ids_is_idempotent(
    store: Repositories, tmp_path: Path
) -> None:
    path = tmp_path / "saisie.csv"
    path.write_text(
        "identifiant,nature,date,auteur,nouvelle_valeur,texte,nouvelle_echeance\n"
        f"{CAE},statut,2025-01-10,alice,intéressé,,\n"
        f"{CAE},note,2025-01-11T09:30:00+01:00,alice,,Appel de suivi,\n"
        f"{PARC},prochaine_action,2025-01-12,bob,Rappeler le parc,,20/02/2025\n",
        encoding="utf-8",
    )
    first = store.contacts.import_csv(path)
    assert first.events_added == 3
    assert store.contacts.import_csv(path).events_added == 0
    cae = store.contacts.get_contact(CAE)
    assert (cae.status, cae.version) == ("interesse", 3)
    assert cae.history[1].occurred_at.hour == 8  # converted to UTC
    parc = store.contacts.get_contact(PARC)
    assert (parc.next_action, parc.next_action_date) == ("Rappeler le parc", date(2025, 2, 20))


def test_broken_file_is_refused_whole_with_line_numbers(
    store: Repositories, tmp_path: Path
) -> None:
    _fill(store)
    before = _snapshot(store)
    path = tmp_path / "casse.csv"
    path.write_text(
        "identifiant;nature;date;auteur;nouvelle_valeur;texte\n"
        f"{PARC};note;2025-01-10;alice;;Ligne valide\n"
        f"{PARC};statut;2025-01-10;alice;fini;\n"
        f"{PARC};note;10 janvier;alice;;date fausse\n"
        "siret:000;note;2025-01-10;alice;;structure inconnue\n"
        f"{PARC};appel;2025-01-10;alice;;nature inconnue\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejectedError, match="rien n'a été enregistré") as caught:
        store.contacts.import_csv(path)
    assert [issue.line for issue in caught.value.issues] == [3, 4, 5, 6]
    message = str(caught.value)
    assert "ligne 3, colonne nouvelle_valeur (E) : Statut inconnu : « fini »" in message
    assert "ligne 5, colonne identifiant : structure inconnue « siret:000 »" in message
    assert _snapshot(store) == before


def test_partial_import_keeps_valid_lines(store: Repositories, tmp_path: Path) -> None:
    path = tmp_path / "partiel.csv"
    path.write_text(
        "identifiant;nature;date;auteur;nouvelle_valeur;texte\n"
        f"{PARC};note;2025-01-10;alice;;Ligne valide\n"
        f"{PARC};statut;2025-01-10;alice;fini;\n",
        encoding="utf-8",
    )
    report = store.contacts.import_csv(path, partial=True)
    assert report.events_added == 1
    assert [issue.line for issue in report.issues] == [3]
    assert store.contacts.get_contact(PARC).history[0].text == "Ligne valide"


def test_windows_1252_file_is_read_and_bad_bytes_or_missing_columns_are_explained(
    store: Repositories, tmp_path: Path
) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(
        f"identifiant;nature;date;auteur;texte\n{PARC};note;2025-01-10;alice;Réunion\n".encode(
            "cp1252"
        )
    )
    report = store.contacts.import_csv(path)
    assert report.source == "CSV, Windows-1252, séparateur « ; »"
    assert store.contacts.get_contact(PARC).history[0].text == "Réunion"
    path.write_bytes(b"identifiant;nature;date;auteur;texte\nx;note;2025-01-10;a;\x81\xe9\n")
    with pytest.raises(ImportRejectedError, match=r"ligne 2 : le fichier n'est ni en UTF-8"):
        store.contacts.import_csv(path)
    path.write_text("identifiant;texte\nx;y\n", encoding="utf-8")
    with pytest.raises(ImportRejectedError, match="colonne\\(s\\) manquante\\(s\\) : nature"):
        store.contacts.import_csv(path)


def test_state_lines_edited_are_applied_by_their_author(
    store: Repositories, tmp_path: Path
) -> None:
    _fill(store)
    path = tmp_path / "contacts.csv"
    store.contacts.export_csv(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"etat;{PARC};"))
    cells = lines[index].split(";")
    cells[7] = "contacté"  # statut
    lines[index] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    with pytest.raises(InvalidValueError, match="qui a fait ces modifications"):
        store.contacts.import_csv(path)
    assert store.contacts.get_contact(PARC).status == "a_contacter"
    report = store.contacts.import_csv(path, author="emma")
    assert (report.changes_applied, report.conflicts) == (1, ())
    parc = store.contacts.get_contact(PARC)
    assert (parc.status, parc.history[-1].author, parc.history[-1].old_value) == (
        "contacte",
        "emma",
        "a_contacter",
    )


def test_export_does_not_leave_a_partial_file(store: Repositories, tmp_path: Path) -> None:
    _fill(store)
    path = tmp_path / "out" / "contacts.csv"
    store.contacts.export_csv(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["contacts.csv"]
    assert path.read_bytes().startswith("\ufeffligne;identifiant;nom;categorie".encode())
