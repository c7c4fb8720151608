"""``contacts list`` and ``contacts show`` in a terminal (issue 12, points 5 and 6).

Readable at 80 and 120 columns (names before identifiers, no line wider than the
terminal), one filter at a time, French dates and unknown values explained in French,
and the times of the history in Paris time, winter and summer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.cli.common import terminal_width
from tierslieux.config import Settings
from tierslieux.pipeline import contacts as use_cases

runner = CliRunner()
COMMUNES = Path(__file__).parent / "data" / "communes" / "communes_extrait.csv"
CAE = "siret:12345678900011"
ASSO = "rna:W051000123"
SCOP = "siret:98765432100017"
LONG_NAME = (
    "Coopérative d'activité et d'emploi des Alpes du Sud, du Gapençais et du Pays du Buëch "
    "réunis pour l'entrepreneuriat salarié"
)
STRUCTURES_CSV = (
    "identifiant,nom,categorie,themes,code_commune,latitude,longitude,source,raison\n"
    f'{CAE},"{LONG_NAME}",cae,ess_cooperation,05061,44.56,6.08,sirene,CAE\n'
    f"{ASSO},Les Télé-actifs d'Embrun,association_teleactivites,tic,05046,,,rna,objet\n"
    f"{SCOP},Numérique Briançonnais,scop_scic_tic,tic,05023,,,sirene,SCOP\n"
)


def run(env: dict[str, str | None], *args: str, columns: int = 200) -> Result:
    return runner.invoke(app, ["contacts", *args], env={**env, "COLUMNS": str(columns)})


def ok(env: dict[str, str | None], *args: str, columns: int = 200) -> Result:
    result = run(env, *args, columns=columns)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    structures = tmp_path / "structures.csv"
    structures.write_text(STRUCTURES_CSV, encoding="utf-8")
    values: dict[str, str | None] = {
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'contacts.sqlite'}",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "TIERSLIEUX_LANG": None,
    }
    ok(values, "load", str(structures))
    ok(values, "set-status", ASSO, "intéressé", "--auteur", "alice")
    ok(values, "owner", ASSO, "Camille Roux", "--auteur", "alice")
    ok(values, "next", ASSO, "Visite du local", "--date", "15/01/2027", "--auteur", "alice")
    ok(values, "owner", SCOP, "Bob", "--auteur", "alice")
    ok(values, "next", SCOP, "Rappeler", "--date", "2027-03-01", "--auteur", "bob")
    return values


def names_in(output: str) -> list[str]:
    """The structures listed, in order, by a word of their name."""
    found = [(output.find(word), word) for word in ("Coopérative", "Télé-actifs", "Numérique")]
    return [word for at, word in sorted(found) if at >= 0]


# --- layout --------------------------------------------------------------------------


def test_80_columns_no_line_wider_and_names_before_identifiers(
    env: dict[str, str | None],
) -> None:
    out = ok(env, "list", "--communes", str(COMMUNES), columns=80).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    # The long name is shown whole (wrapped), each record's name before its identifier.
    flat = " ".join(" ".join(line.split()) for line in lines)
    for word in ("Coopérative d'activité et d'emploi", "Gapençais", "l'entrepreneuriat"):
        assert word in flat, out
    for name, identifier in (("Coopérative", CAE), ("Télé-actifs", ASSO), ("Numérique", SCOP)):
        assert identifier in out, out  # whole, never cut
        assert out.index(name) < out.index(identifier)
    # Commune and category in words, status label, owner, due date in French.
    for text in ("Gap", "Embrun", "Briançon", "CAE", "intéressé", "Camille", "15/01/2027"):
        assert text in out, text
    assert "05061" not in out
    assert "association_teleactivites" not in out


def test_120_columns_one_column_per_field_identifier_last(env: dict[str, str | None]) -> None:
    out = ok(env, "list", "--communes", str(COMMUNES), columns=120).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120, out
    header = next(line for line in lines if "Structure" in line)
    columns = header.split()
    assert columns[0] == "Structure"
    assert columns[-1] == "Identifiant"
    for title in ("Commune", "Catégorie", "Statut", "Responsable", "Échéance"):
        assert title in columns
    row = next(line for line in lines if SCOP in line)
    assert row.index("Numérique") < row.index("Briançon") < row.index("Bob") < row.index(SCOP)
    assert "01/03/2027" in row
    assert names_in(out) == ["Coopérative", "Télé-actifs", "Numérique"]  # sorted by name


def test_width_follows_columns_and_defaults_to_80() -> None:
    assert terminal_width(environ={"COLUMNS": "132"}) == 132
    assert terminal_width(environ={"COLUMNS": "abc"}) == 80  # not a terminal under pytest
    assert terminal_width(environ={}) == 80


def test_without_communes_file_codes_are_shown_and_the_way_to_names_said(
    env: dict[str, str | None],
) -> None:
    result = ok(env, "list", columns=100)
    assert "05061" in result.stdout
    assert "--communes" in result.stderr


# --- filters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--categorie", "cae"], ["Coopérative"]),
        (["--categorie", "SCOP/SCIC numérique"], ["Numérique"]),
        (["--categorie", "Association télé-activités"], ["Télé-actifs"]),
        (["--statut", "intéressé"], ["Télé-actifs"]),
        (["--statut", "A CONTACTER"], ["Coopérative", "Numérique"]),
        (["--responsable", "camille roux"], ["Télé-actifs"]),
        (["--commune", "05023"], ["Numérique"]),
        (["--commune", "briancon"], ["Numérique"]),
        (["--commune", "Gap"], ["Coopérative"]),
        (["--echeance-avant", "31/01/2027"], ["Télé-actifs"]),
        (["--echeance-avant", "2027-03-01"], ["Télé-actifs", "Numérique"]),
        (["--statut", "à contacter", "--responsable", "Bob"], ["Numérique"]),
    ],
)
def test_each_filter(env: dict[str, str | None], args: list[str], expected: list[str]) -> None:
    out = ok(env, "list", "--communes", str(COMMUNES), *args, columns=120).stdout
    assert names_in(out) == expected
    assert f"Fiches contact ({len(expected)})" in out


def test_no_match_is_said(env: dict[str, str | None]) -> None:
    result = ok(env, "list", "--statut", "partenaire")
    assert "Aucune fiche contact ne correspond." in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--categorie", "ferme"], "Catégorie inconnue : « ferme ». Catégories possibles : cae"),
        (["--statut", "fâché"], "Statut inconnu : « fâché ». Statuts possibles : à contacter"),
        (["--commune", "Atlantis", "--communes", str(COMMUNES)], "Commune inconnue"),
        (["--commune", "Gap"], "sans fichier des communes"),
        (["--echeance-avant", "31/13/2027"], "Date illisible pour --echeance-avant"),
    ],
)
def test_unknown_values_are_explained_in_french(
    env: dict[str, str | None], args: list[str], expected: str
) -> None:
    result = run(env, "list", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Erreur :")
    assert expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_category_message_lists_every_category(env: dict[str, str | None]) -> None:
    text = " ".join(run(env, "list", "--categorie", "x").stderr.split())
    for code in ("cae", "scop_scic_tic", "acteur_developpement", "point_appui"):
        assert code in text


def test_filters_live_in_the_pipeline(env: dict[str, str | None]) -> None:
    settings = Settings(database_url=env["TIERSLIEUX_DATABASE_URL"])
    listing = use_cases.find_contacts(
        settings, category="SCOP/SCIC numérique", commune="Briançon", communes=(COMMUNES,)
    )
    assert [row.contact.identifiant for row in listing.rows] == [SCOP]
    assert listing.rows[0].commune_name == "Briançon"
    assert listing.rows[0].category_label == "SCOP/SCIC numérique"
    assert listing.communes_named
    assert use_cases.parse_category("Tiers-lieu existant") == "tiers_lieu_existant"


# --- Paris time ----------------------------------------------------------------------


def test_history_is_shown_in_paris_time_winter_and_summer(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    path = tmp_path / "saisie.csv"
    path.write_bytes(
        "ligne;identifiant;date;auteur;nature;texte\r\n"
        f"evenement;{CAE};31/07/2026 14:05;Zoé;note;Appel d'été\r\n"
        f"evenement;{CAE};15/01/2026 09:30;Zoé;note;Appel d'hiver\r\n".encode("cp1252")
    )
    ok(env, "import", str(path))
    settings = Settings(database_url=env["TIERSLIEUX_DATABASE_URL"])
    stored = {e.text: e.occurred_at for e in use_cases.show_contact(settings, CAE).history}
    assert stored["Appel d'été"] == datetime(2026, 7, 31, 12, 5, tzinfo=UTC)  # CEST, UTC+2
    assert stored["Appel d'hiver"] == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)  # CET, UTC+1
    out = ok(env, "show", CAE).stdout
    assert "31/07/2026 14:05" in out
    assert "15/01/2026 09:30" in out
    assert "12:05" not in out
    assert "08:30" not in out
    assert "heure de Paris" in out
    assert "UTC" not in out
