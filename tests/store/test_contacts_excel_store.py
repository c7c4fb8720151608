"""The contacts exchange file on both backends: edits applied, conflicts held back."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from store_sample import ASSO, CAE, PARC

from tierslieux.store import ImportRejectedError, Repositories


def _edit(path: Path, edits: dict[str, dict[str, str]], *, encoding: str = "cp1252") -> None:
    """Change ``etat`` cells and save back as French Excel does (no seconds, ``;``)."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    for row in rows:
        if row["ligne"] == "etat" and row["identifiant"] in edits:
            row.update(edits[row["identifiant"]])
        if len(row["date"]) == 19:
            row["date"] = row["date"][:16]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, list(rows[0]), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_colleague_conflict_on_both_backends(
    store: Repositories, tmp_path: Path, suffix: str
) -> None:
    store.contacts.set_status(CAE, "interesse", author="alice")
    mine, theirs = tmp_path / f"bob{suffix}", tmp_path / "alice.csv"
    store.contacts.export_file(mine)
    store.contacts.export_file(theirs)
    _edit(theirs, {CAE: {"statut": "partenaire"}})
    assert store.contacts.import_file(theirs, author="alice").changes_applied == 1
    if suffix == ".csv":
        _edit(mine, {CAE: {"statut": "pas intéressé", "nouvelle_note": "Plus de budget"}})
    else:
        from openpyxl import load_workbook  # noqa: PLC0415

        workbook = load_workbook(mine)
        sheet = workbook["fiches"]
        header = [cell.value for cell in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == CAE)
        row[header.index("statut")].value = "pas intéressé"
        row[header.index("nouvelle_note")].value = "Plus de budget"
        workbook.save(mine)
    before = store.contacts.get_contact(CAE)
    report = store.contacts.import_file(mine, author="bob")
    (conflict,) = report.conflicts
    assert (conflict.identifiant, conflict.file_version, conflict.database_version) == (CAE, 2, 3)
    assert not conflict.overwritten
    status, note = conflict.fields
    assert (status.file_value, status.database_value, status.changed_by) == (
        "pas intéressé",
        "partenaire",
        "alice",
    )
    assert status.changed_at == before.updated_at
    assert (note.file_value, note.database_value) == ("Plus de budget", "—")
    assert report.changes_applied == 0
    assert store.contacts.get_contact(CAE) == before
    forced = store.contacts.import_file(mine, author="bob", force=True)
    assert forced.changes_applied == 2
    assert forced.conflicts[0].overwritten
    after = store.contacts.get_contact(CAE)
    assert after.status == "pas_interesse"
    chain = [(e.old_value, e.new_value) for e in after.history if e.kind == "statut"]
    assert chain == [
        ("a_contacter", "interesse"),
        ("interesse", "partenaire"),
        ("partenaire", "pas_interesse"),
    ]
    again = store.contacts.import_file(mine, author="bob", force=True)
    assert again.unchanged
    assert again.conflicts == ()


def test_round_trip_through_a_fresh_store_then_edits(
    make_store: Callable[[], Repositories], tmp_path: Path
) -> None:
    source, target = make_store(), make_store()
    source.contacts.set_status(CAE, "contacte", author="alice")
    source.contacts.add_note(CAE, "Premier appel", author="alice")
    source.contacts.add_note(CAE, "Deuxième appel dans la même seconde", author="alice")
    path = tmp_path / "contacts.csv"
    source.contacts.export_file(path)
    _edit(path, {PARC: {"responsable": "Claire", "echeance": "01/03/2027"}}, encoding="utf-8")
    report = target.contacts.import_file(path, author="claire")
    assert (report.events_added, report.changes_applied) == (3, 2)
    assert [e.text for e in target.contacts.get_contact(CAE).history][1:] == [
        "Premier appel",
        "Deuxième appel dans la même seconde",
    ]
    assert target.contacts.get_contact(CAE).history == source.contacts.get_contact(CAE).history
    parc = target.contacts.get_contact(PARC)
    assert parc.owner == "Claire"
    assert (parc.next_action, parc.next_action_date) == (None, date(2027, 3, 1))
    assert target.contacts.import_file(path, author="claire").unchanged


def test_impossible_history_line_is_refused(store: Repositories, tmp_path: Path) -> None:
    store.contacts.set_status(ASSO, "partenaire", author="alice")
    path = tmp_path / "h.csv"
    path.write_text(
        "identifiant;nature;date;auteur;ancienne_valeur;nouvelle_valeur\n"
        f"{ASSO};statut;01/01/2031 09:00;bob;intéressé;pas intéressé\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejectedError, match="colonne ancienne_valeur \\(E\\)"):
        store.contacts.import_file(path)
    assert store.contacts.get_contact(ASSO).status == "partenaire"
