"""The contacts list through Excel and a colleague (issue 12, points 4 and 6).

Export readable in French Excel, edited the way Excel saves it back (Windows-1252 or
UTF-8, ``;``, French dates without seconds), XLSX, and the colleague-merge conflict:
a change made in the database since the export is never silently overwritten.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.pipeline import contacts as use_cases

runner = CliRunner()
PARIS = ZoneInfo("Europe/Paris")
DATA = Path(__file__).parent / "data"
COMMUNES = DATA / "communes" / "communes_extrait.csv"
CAE = "siret:12345678900011"
ASSO = "rna:W051000123"
STRUCTURES_CSV = (
    "identifiant,nom,categorie,themes,code_commune,latitude,longitude,source,raison\n"
    f"{CAE},Coopérative d'activité Alpes,cae,ess_cooperation,05061,44.56,6.08,sirene,CAE\n"
    f"{ASSO},Les Télé-actifs du Queyras,association_teleactivites,tic,05063,,,rna,objet\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    structures = tmp_path / "structures.csv"
    structures.write_text(STRUCTURES_CSV, encoding="utf-8")
    values: dict[str, str | None] = {
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'contacts.sqlite'}",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "COLUMNS": "200",
    }
    ok(values, "load", str(structures))
    return values


def run(env: dict[str, str | None], *args: str) -> Result:
    return runner.invoke(app, ["contacts", *args], env=env)


def ok(env: dict[str, str | None], *args: str) -> Result:
    result = run(env, *args)
    assert result.exit_code == 0, result.output
    return result


def show(env: dict[str, str | None], identifiant: str = CAE) -> str:
    return ok(env, "show", identifiant).stdout


def rows_of(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


_SECONDS = re.compile(r"^(\d\d/\d\d/\d{4} \d\d:\d\d):\d\d$")


def excel_save(
    path: Path, edits: dict[str, dict[str, str]], *, encoding: str, out: Path | None = None
) -> Path:
    """Edit ``etat`` lines and save the file back the way French Excel does.

    « CSV (séparateur : point-virgule) » is Windows-1252, « CSV UTF-8 » UTF-8 with BOM;
    both use ``;`` and CRLF, drop the leading zero of codes read as numbers and write
    date-times without seconds.
    """
    rows = rows_of(path)
    header = list(rows[0])
    for row in rows:
        if row["ligne"] == "etat" and row["identifiant"] in edits:
            row.update(edits[row["identifiant"]])
        for name, value in row.items():
            row[name] = _SECONDS.sub(r"\1", value)
        row["code_commune"] = row["code_commune"].lstrip("0")
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    target = out or path
    target.write_bytes(buffer.getvalue().encode(encoding))
    return target


def paris(when: datetime) -> str:
    return when.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


# --- export ------------------------------------------------------------------------


def test_csv_export_opens_in_french_excel(env: dict[str, str | None], tmp_path: Path) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    ok(env, "note", CAE, '=HYPERLINK("http://example.org")', "--auteur", "alice")
    ok(env, "next", CAE, "Visite du local", "--date", "2027-01-15", "--auteur", "alice")
    out = tmp_path / "contacts.csv"
    result = ok(env, "export", str(out), "--communes", str(COMMUNES))
    assert "2 fiches et 3 événements" in result.stdout
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfligne;identifiant;nom;categorie;categorie_libelle;")
    rows = rows_of(out)
    cae = next(r for r in rows if r["ligne"] == "etat" and r["identifiant"] == CAE)
    assert cae["statut"] == "intéressé"
    assert cae["categorie"] == "cae"
    assert cae["categorie_libelle"] == "Coopérative d'activité et d'emploi (étape 1)"
    assert (cae["code_commune"], cae["commune"]) == ("05061", "Gap")
    assert cae["echeance"] == "15/01/2027"
    assert cae["version"] == "4"
    contact = use_cases.show_contact(Settings(database_url=env["TIERSLIEUX_DATABASE_URL"]), CAE)
    assert contact.updated_at is not None
    assert cae["date"] == contact.updated_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")
    asso = next(r for r in rows if r["ligne"] == "etat" and r["identifiant"] == ASSO)
    assert (asso["statut"], asso["commune"]) == ("à contacter", "")
    status = next(r for r in rows if r["nature"] == "statut")
    assert (status["ancienne_valeur"], status["nouvelle_valeur"]) == ("à contacter", "intéressé")
    note = next(r for r in rows if r["nature"] == "note")
    assert note["texte"] == '\'=HYPERLINK("http://example.org")'  # formula guard kept


def test_export_without_communes_says_how_to_name_them(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = ok(env, "export", str(tmp_path / "contacts.csv"))
    assert "--communes" in result.stderr


# --- the Excel round trip ----------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "named"), [("cp1252", "Windows-1252"), ("utf-8-sig", "UTF-8 avec BOM")]
)
def test_excel_round_trip_applies_edited_status_and_note(
    env: dict[str, str | None], tmp_path: Path, encoding: str, named: str
) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    out = tmp_path / "contacts.csv"
    ok(env, "export", str(out), "--communes", str(COMMUNES))
    excel_save(
        out,
        {
            CAE: {
                "statut": "partenaire",
                "nouvelle_note": "Convention signée : 12 € par mois",
                "prochaine_action": "Signer la convention",
                "echeance": "31/12/2026",
                "responsable": "Camille",
            }
        },
        encoding=encoding,
    )
    first = ok(env, "import", str(out), "--auteur", "camille")
    assert f"CSV, {named}, séparateur « ; »" in first.stderr
    assert "4 modification(s) des lignes « etat » appliquée(s)" in first.stdout
    shown = show(env)
    assert "Statut : partenaire" in shown
    assert "Responsable : Camille" in shown
    assert "Signer la convention pour le 31/12/2026" in shown
    assert "Convention signée : 12 € par mois" in shown
    assert "intéressé → partenaire" in shown
    # The same file again: nothing changes.
    second = ok(env, "import", str(out), "--auteur", "camille")
    assert "Aucun changement" in second.stdout
    assert show(env) == shown


def test_hand_saved_windows_1252_file_without_history_is_applied(
    env: dict[str, str | None],
) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")  # version 2
    path = DATA / "contacts" / "contacts_excel_cp1252.csv"
    result = ok(env, "import", str(path), "--auteur", "camille")
    assert "Windows-1252" in result.stderr
    shown = show(env)
    assert "Statut : partenaire" in shown
    assert "Responsable : Camille Roux" in shown
    assert "Visite du local pour le 15/01/2027" in shown
    assert "Convention signée, cotisation 12 € par mois" in shown
    assert "Statut : à contacter" in show(env, ASSO)
    assert "Aucun changement" in ok(env, "import", str(path), "--auteur", "camille").stdout


def test_french_dates_and_times_are_read_as_paris_time(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    path = tmp_path / "saisie.csv"
    path.write_bytes(
        "ligne;identifiant;date;auteur;nature;texte;nouvelle_valeur;nouvelle_echeance\r\n"
        f"evenement;{CAE};31/07/2026 14:05;Zoé;note;Appel d'été;;\r\n"
        f"evenement;{CAE};31/12/2026;Zoé;prochaine_action;;Relancer;15/01/2027\r\n".encode("cp1252")
    )
    ok(env, "import", str(path))
    contact = use_cases.show_contact(Settings(database_url=env["TIERSLIEUX_DATABASE_URL"]), CAE)
    note, action = contact.history
    assert note.occurred_at == datetime(2026, 7, 31, 12, 5, tzinfo=UTC)  # CEST, UTC+2
    assert action.occurred_at == datetime(2026, 12, 30, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert str(contact.next_action_date) == "2027-01-15"


# --- XLSX --------------------------------------------------------------------------


def test_xlsx_round_trip(env: dict[str, str | None], tmp_path: Path) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    ok(env, "note", CAE, "+33 ou =1+1 ?", "--auteur", "alice")
    out = tmp_path / "contacts.xlsx"
    result = ok(env, "export", str(out), "--communes", str(COMMUNES))
    assert "2 fiches et 2 événements" in result.stdout
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["fiches", "historique"]
    fiches = workbook["fiches"]
    header = [cell.value for cell in fiches[1]]
    assert all(cell.font.bold for cell in fiches[1])
    assert fiches.freeze_panes == "A2"
    col = {name: index + 1 for index, name in enumerate(header)}
    row = next(
        r for r in range(2, fiches.max_row + 1) if fiches.cell(r, col["identifiant"]).value == CAE
    )
    assert fiches.cell(row, col["statut"]).value == "intéressé"
    assert fiches.cell(row, col["commune"]).value == "Gap"
    assert fiches.cell(row, col["version"]).value == 3
    assert isinstance(fiches.cell(row, col["date"]).value, datetime)
    historique = workbook["historique"]
    texts = [historique.cell(r, col["texte"]) for r in range(2, historique.max_row + 1)]
    note = next(cell for cell in texts if cell.value)
    assert (note.value, note.data_type, note.quotePrefix) == ("+33 ou =1+1 ?", "s", True)
    # Edit in "Excel" and save.
    fiches.cell(row, col["statut"]).value = "partenaire"
    fiches.cell(row, col["nouvelle_note"]).value = "Signée"
    workbook.save(out)
    first = ok(env, "import", str(out), "--auteur", "camille")
    assert "classeur XLSX" in first.stderr
    assert "2 modification(s)" in first.stdout
    shown = show(env)
    assert "Statut : partenaire" in shown
    assert "Signée" in shown
    assert "+33 ou =1+1 ?" in shown
    assert "Aucun changement" in ok(env, "import", str(out), "--auteur", "camille").stdout


def test_format_option_wins_over_the_suffix(env: dict[str, str | None], tmp_path: Path) -> None:
    out = tmp_path / "contacts.dat"
    ok(env, "export", str(out), "--format", "xlsx")
    assert out.read_bytes().startswith(b"PK\x03\x04")
    result = run(env, "export", str(out), "--format", "ods")
    assert result.exit_code == 1
    assert "csv ou xlsx" in result.stderr


# --- the colleague merge -------------------------------------------------------------


def test_colleague_change_is_reported_not_overwritten(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    """The known bug: « partenaire » silently replaced by « pas intéressé »."""
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    alice_file, bob_file = tmp_path / "alice.csv", tmp_path / "bob.csv"
    ok(env, "export", str(alice_file))
    ok(env, "export", str(bob_file))  # two exports from the same base
    # Alice passes her file through Excel: the CAE becomes a partner.
    excel_save(alice_file, {CAE: {"statut": "partenaire"}}, encoding="cp1252")
    ok(env, "import", str(alice_file), "--auteur", "alice")
    before = show(env)
    assert "Statut : partenaire" in before
    # Bob imports his older file, where he marked the CAE « pas intéressé ».
    excel_save(bob_file, {CAE: {"statut": "pas intéressé"}}, encoding="cp1252")
    result = run(env, "import", str(bob_file), "--auteur", "bob")
    assert result.exit_code == 1
    contact = use_cases.show_contact(Settings(database_url=env["TIERSLIEUX_DATABASE_URL"]), CAE)
    assert contact.updated_at is not None
    assert "modifiée dans la base depuis l'export" in result.stderr
    assert "version 2 dans le fichier, 3 dans la base" in result.stderr
    assert (
        "statut (H) : « pas intéressé » dans le fichier, « partenaire » dans la base "
        f"(modifiée par alice le {paris(contact.updated_at)}, heure de Paris)"
    ) in result.stderr
    assert "--ecraser" in result.stderr
    assert show(env) == before
    assert all(event.new_value != "pas_interesse" for event in contact.history)
    # Told to, the import applies Bob's change on top of Alice's: a consistent history.
    forced = ok(env, "import", str(bob_file), "--auteur", "bob", "--ecraser")
    assert "appliquées par-dessus (--ecraser)" in forced.stderr
    shown = show(env)
    assert "Statut : pas intéressé" in shown
    assert "partenaire → pas intéressé" in shown


def test_colleague_note_added_meanwhile_holds_back_the_whole_record(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    out = tmp_path / "contacts.csv"
    ok(env, "export", str(out))
    ok(env, "note", CAE, "Appelée ce matin", "--auteur", "alice")
    excel_save(out, {CAE: {"statut": "contacté"}, ASSO: {"statut": "contacté"}}, encoding="cp1252")
    result = run(env, "import", str(out), "--auteur", "bob")
    assert result.exit_code == 1
    assert "« contacté » dans le fichier, « à contacter » dans la base (modifiée par alice" in (
        result.stderr
    )
    assert "Statut : à contacter" in show(env)
    assert "Statut : contacté" in show(env, ASSO)  # the other record was not changed meanwhile


def test_impossible_transition_is_refused_with_line_and_column(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    ok(env, "set-status", CAE, "partenaire", "--auteur", "alice")
    path = tmp_path / "ancien.csv"
    path.write_text(
        "ligne;identifiant;date;auteur;nature;ancienne_valeur;nouvelle_valeur\n"
        f"evenement;{ASSO};01/01/2030 10:00;bob;statut;à contacter;contacté\n"
        f"evenement;{CAE};01/01/2030 10:00;bob;statut;intéressé;pas intéressé\n",
        encoding="utf-8",
    )
    before = show(env)
    result = run(env, "import", str(path))
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "ligne 3, colonne ancienne_valeur (F) : changement de statut impossible" in message
    assert "« intéressé → pas intéressé » alors que la fiche est « partenaire »" in message
    assert "rien n'a été enregistré" in message
    assert show(env) == before
    assert "Statut : à contacter" in show(env, ASSO)


def test_edits_need_an_author(env: dict[str, str | None], tmp_path: Path) -> None:
    out = tmp_path / "contacts.csv"
    ok(env, "export", str(out))
    excel_save(out, {CAE: {"statut": "contacté"}}, encoding="cp1252")
    result = run(env, "import", str(out))
    assert result.exit_code == 1
    assert "--auteur" in result.stderr
    assert "Statut : à contacter" in show(env)


def test_unknown_status_label_names_line_and_column(tmp_path: Path) -> None:
    from tierslieux.store._csv import read_contacts_file  # noqa: PLC0415

    path = tmp_path / "x.csv"
    path.write_text("identifiant;statut\nsiret:1;fâché\n", encoding="utf-8")
    parsed = read_contacts_file(path)
    (issue,) = parsed.issues
    assert issue.where() == "ligne 2, colonne statut (B)"


def test_file_without_history_is_checked_against_its_version(
    env: dict[str, str | None],
) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")  # version 2, as in the file
    ok(env, "owner", CAE, "Dora", "--auteur", "dora")  # version 3: changed since
    path = DATA / "contacts" / "contacts_excel_cp1252.csv"
    result = run(env, "import", str(path), "--auteur", "camille")
    assert result.exit_code == 1
    assert "version 2 dans le fichier, 3 dans la base" in result.stderr
    assert "responsable (I) : « Camille Roux » dans le fichier, « Dora » dans la base" in (
        result.stderr
    )
    shown = show(env)
    assert "Statut : intéressé" in shown
    assert "Responsable : Dora" in shown


def test_truncated_workbook_is_refused_in_one_line(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    out = tmp_path / "contacts.xlsx"
    ok(env, "export", str(out))
    out.write_bytes(out.read_bytes()[:2000])
    result = run(env, "import", str(out))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "fichier : classeur XLSX illisible" in result.stderr


def test_export_in_english_imports_back(env: dict[str, str | None], tmp_path: Path) -> None:
    ok(env, "set-status", CAE, "intéressé", "--auteur", "alice")
    out = tmp_path / "contacts.csv"
    ok(env, "export", str(out), "--lang", "en")
    assert any(row["statut"] == "interested" for row in rows_of(out))
    excel_save(out, {CAE: {"statut": "partner"}}, encoding="cp1252")
    ok(env, "import", str(out), "--auteur", "alice", "--lang", "en")
    assert "Statut : partenaire" in show(env)
