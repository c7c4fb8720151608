"""``tierslieux contacts``: load, follow-up, stale writes, CSV round trip, RGPD, errors.

Each test runs the real command line (Typer's CliRunner) on a fresh SQLite file named
by ``TIERSLIEUX_DATABASE_URL``; one test runs the same flow on the PostgreSQL server
of 127.0.0.1:5432 (its own schema, dropped afterwards), skipped when none answers.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, exc, text
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.pipeline.contacts import default_database_path
from tierslieux.store import dispose_engine

runner = CliRunner()

CAE = "siret:12345678900011"
ASSO = "rna:W051000123"
STRUCTURES_CSV = (
    "identifiant,nom,categorie,themes,code_commune,latitude,longitude,source,raison\n"
    f"{CAE},Coopérative d'activité Alpes,cae,ess_cooperation,05061,44.56,6.08,sirene,"
    '"CAE (catégorie juridique 5560, ESS)"\n'
    f"{ASSO},Les Télé-actifs du Queyras,association_teleactivites,tic;inclusion_numerique,"
    "05063,,,rna,objet social : télétravail\n"
)
PG_HOST = "127.0.0.1:5432"
PG_USERS = ("postgres", "root")


@pytest.fixture
def structures(tmp_path: Path) -> Path:
    path = tmp_path / "structures.csv"
    path.write_text(STRUCTURES_CSV, encoding="utf-8")
    return path


def _env(url: str, tmp_path: Path) -> dict[str, str | None]:
    return {
        "TIERSLIEUX_DATABASE_URL": url,
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "COLUMNS": "200",
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return _env(f"sqlite:///{tmp_path / 'contacts.sqlite'}", tmp_path)


def run(env: dict[str, str | None], *args: str) -> Result:
    return runner.invoke(app, ["contacts", *args], env=env)


def ok(env: dict[str, str | None], *args: str) -> Result:
    result = run(env, *args)
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: Result) -> str:
    """Assert a user error: exit 1, no traceback; return the message."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Erreur :")
    return result.stderr


@pytest.fixture
def loaded(env: dict[str, str | None], structures: Path) -> dict[str, str | None]:
    ok(env, "load", str(structures))
    return env


def test_show_flags_contact_details_in_notes(loaded: dict[str, str | None]) -> None:
    # Team members see the raw note, with a warning that it holds personal data.
    ok(loaded, "note", CAE, "Joindre Mme Durand : durand@example.org", "--auteur", "Bob")
    ok(loaded, "next", CAE, "Appeler le 06 12 34 56 78", "--date", "2030-03-12", "--auteur", "Bob")
    ok(loaded, "note", CAE, "Rien de personnel", "--auteur", "Bob")
    shown = ok(loaded, "show", CAE).stdout
    assert "durand@example.org [contient une adresse e-mail]" in shown
    assert "Appeler le 06 12 34 56 78 [contient un numéro de téléphone] pour le 12/03/2030" in shown
    assert "Rien de personnel [" not in shown


def test_load_is_idempotent_and_reports_counts(
    env: dict[str, str | None], structures: Path
) -> None:
    first = ok(env, "load", str(structures))
    assert "2 structures lues : 2 nouvelles, 0 mises à jour, 0 inchangées." in first.stdout
    second = ok(env, "load", str(structures))
    assert "0 nouvelles, 0 mises à jour, 2 inchangées" in second.stdout
    # A renamed structure is updated, the other left alone.
    structures.write_text(
        STRUCTURES_CSV.replace("Coopérative d'activité Alpes", "CAE des Alpes"), encoding="utf-8"
    )
    third = ok(env, "load", str(structures))
    assert "0 nouvelles, 1 mises à jour, 1 inchangées" in third.stdout
    listing = ok(env, "list").stdout
    assert "CAE des Alpes" in listing
    assert "à contacter" in listing


def test_load_rejects_a_directory_without_names(env: dict[str, str | None], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("identifiant,categorie\nsiret:1,cae\n", encoding="utf-8")
    message = one_line_error(run(env, "load", str(path)))
    assert "nom" in message
    path.write_text(f"identifiant,nom\n{CAE},Coop\n,Sans identifiant\n", encoding="utf-8")
    message = one_line_error(run(env, "load", str(path)))
    assert "ligne 3" in message
    assert "identifiant de structure manquant" in message
    assert "Traceback" not in ok(env, "list").output  # nothing half-written
    assert CAE not in ok(env, "list").stdout


def test_set_status_with_french_label_and_show_history(loaded: dict[str, str | None]) -> None:
    result = ok(
        loaded, "set-status", CAE, "Intéressé", "--auteur", "Alice", "--version", "1",
        "--note", "Premier rendez-vous [mardi]",
    )  # fmt: skip
    assert "statut intéressé, version 2" in result.stdout
    ok(loaded, "note", CAE, "Rappeler après le conseil d'administration", "--auteur", "Bob")
    ok(loaded, "next", CAE, "Envoyer la plaquette", "--date", "2030-03-12", "--auteur", "Bob")
    ok(loaded, "owner", CAE, "Bob", "--auteur", "Alice")
    shown = ok(loaded, "show", CAE).stdout
    assert "Statut : intéressé" in shown
    assert "Version : 5" in shown
    assert "Responsable : Bob" in shown
    assert "Prochaine action : Envoyer la plaquette pour le 12/03/2030" in shown
    assert "Historique" in shown
    for fragment in (
        "changement de statut",
        "à contacter → intéressé",
        "Premier rendez-vous [mardi]",  # user brackets are not Rich markup
        "Rappeler après le conseil d'administration",
        "prochaine action",
        "— → Bob",
        "Alice",
    ):
        assert fragment in shown, fragment
    # The history is dated and in order.
    assert shown.index("Premier rendez-vous") < shown.index("Rappeler après")
    assert "(heure de Paris)" in shown


def test_list_filters(loaded: dict[str, str | None]) -> None:
    ok(loaded, "set-status", ASSO, "pas interesse", "--auteur", "Alice")
    ok(loaded, "next", CAE, "Rappeler", "--date", "01/02/2030", "--auteur", "Bob")
    ok(loaded, "owner", CAE, "Bob", "--auteur", "Bob")
    assert ASSO in ok(loaded, "list", "--statut", "pas intéressé").stdout
    assert CAE not in ok(loaded, "list", "--statut", "pas intéressé").stdout
    by_owner = ok(loaded, "list", "--responsable", "Bob").stdout
    assert CAE in by_owner
    assert ASSO not in by_owner
    by_commune = ok(loaded, "list", "--commune", "05063").stdout
    assert ASSO in by_commune
    assert CAE not in by_commune
    due = ok(loaded, "list", "--echeance-avant", "2030-02-01").stdout
    assert CAE in due
    assert "01/02/2030" in due
    assert CAE not in ok(loaded, "list", "--echeance-avant", "2030-01-31").stdout
    assert "Aucune fiche" in ok(loaded, "list", "--responsable", "Personne").stderr
    message = one_line_error(run(loaded, "list", "--statut", "fâché"))
    assert "Statut inconnu" in message
    message = one_line_error(run(loaded, "list", "--echeance-avant", "2030-13-01"))
    assert "--echeance-avant" in message


def test_stale_version_is_refused_and_names_who_changed_it(
    loaded: dict[str, str | None],
) -> None:
    ok(loaded, "set-status", CAE, "contacté", "--auteur", "Alice", "--version", "1")
    for args in (
        ("set-status", CAE, "partenaire", "--auteur", "Bob", "--version", "1"),
        ("note", CAE, "Note sur une fiche périmée", "--auteur", "Bob", "--version", "1"),
        ("next", CAE, "Relancer", "--date", "2030-01-01", "--auteur", "Bob", "--version", "1"),
        ("owner", CAE, "Bob", "--auteur", "Bob", "--version", "1"),
    ):
        message = one_line_error(run(loaded, *args))
        assert "Alice" in message
        assert "version 1" in message
        assert "la 2" in message
    shown = ok(loaded, "show", CAE).stdout
    assert "Statut : contacté" in shown
    assert "Version : 2" in shown
    assert "périmée" not in shown


def test_unknown_structure_and_bad_values_are_one_line_errors(
    loaded: dict[str, str | None],
) -> None:
    for args in (
        ("show", "siret:00000000000000"),
        ("set-status", "siret:00000000000000", "intéressé", "--auteur", "Alice"),
        ("note", "siret:00000000000000", "x", "--auteur", "Alice"),
    ):
        message = one_line_error(run(loaded, *args))
        assert "Structure inconnue" in message
        assert "siret:00000000000000" in message
    assert "Statut inconnu" in one_line_error(
        run(loaded, "set-status", CAE, "fâché", "--auteur", "Alice")
    )
    assert "--date" in one_line_error(
        run(loaded, "next", CAE, "Relancer", "--date", "demain", "--auteur", "Alice")
    )
    assert "auteur" in one_line_error(run(loaded, "note", CAE, "x", "--auteur", " "))


def test_export_import_round_trip_is_idempotent(
    loaded: dict[str, str | None], structures: Path, tmp_path: Path
) -> None:
    ok(loaded, "set-status", CAE, "intéressé", "--auteur", "Alice")
    ok(loaded, "note", CAE, "Réunion le 3 mars", "--auteur", "Bob")
    ok(loaded, "next", CAE, "Visite", "--date", "2030-04-01", "--auteur", "Bob")
    exported = tmp_path / "export" / "contacts.csv"
    result = ok(loaded, "export", str(exported))
    assert "2 fiches et 3 événements" in result.stdout

    fresh = _env(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path)
    ok(fresh, "load", str(structures))
    first = ok(fresh, "import", str(exported))
    assert "3 événement(s) ajouté(s), 0 déjà présent(s)" in first.stdout
    second = ok(fresh, "import", str(exported))
    assert "0 événement(s) ajouté(s), 3 déjà présent(s)" in second.stdout
    shown = ok(fresh, "show", CAE).stdout
    assert "Statut : intéressé" in shown
    assert "Réunion le 3 mars" in shown
    assert "Visite pour le 01/04/2030" in shown
    assert "Version : 4" in shown


def test_broken_import_leaves_the_database_unchanged(
    loaded: dict[str, str | None], tmp_path: Path
) -> None:
    ok(loaded, "note", CAE, "Avant l'import", "--auteur", "Alice")
    exported = tmp_path / "contacts.csv"
    ok(loaded, "export", str(exported))
    before = exported.read_bytes()
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "ligne;identifiant;date;auteur;nature;nouvelle_valeur;texte\n"
        f"evenement;{CAE};2030-01-02;Alice;note;;Note valable\n"
        f"evenement;{CAE};2030-01-03;Alice;statut;fâché;\n"
        f"evenement;{ASSO};pas une date;Bob;note;;Autre note\n",
        encoding="utf-8",
    )
    message = one_line_error(run(loaded, "import", str(broken)))
    assert "rien n'a été enregistré" in message
    assert "ligne 3" in message
    assert "ligne 4" in message
    assert "ligne 2" not in message
    ok(loaded, "export", str(exported))
    assert exported.read_bytes().split(b"\n", 1)[0] == before.split(b"\n", 1)[0]
    assert "Note valable" not in exported.read_text(encoding="utf-8")
    assert exported.read_text(encoding="utf-8").count("\n") == before.decode().count("\n")

    partial = ok(loaded, "import", str(broken), "--partiel")
    assert "1 événement(s) ajouté(s)" in partial.stdout
    assert "2 ligne(s) rejetée(s)" in partial.stdout
    assert "ligne 3" in partial.stderr
    assert "ligne 4" in partial.stderr
    assert "Note valable" in ok(loaded, "show", CAE).stdout


def test_import_of_a_windows_1252_file_is_accepted(
    loaded: dict[str, str | None], tmp_path: Path
) -> None:
    latin = tmp_path / "latin1.csv"
    content = (
        f"ligne;identifiant;date;auteur;nature;texte\nevenement;{CAE};2030-01-02;Zoé;note;été\n"
    )
    latin.write_bytes(content.encode("cp1252"))
    result = ok(loaded, "import", str(latin))
    assert "Windows-1252" in result.stderr
    assert "1 événement(s) ajouté(s)" in result.stdout
    assert "été" in ok(loaded, "show", CAE).stdout


def test_person_export_and_forget(loaded: dict[str, str | None], tmp_path: Path) -> None:
    added = ok(
        loaded, "person-add", CAE, "--nom", "Marie Dupont", "--base-legale", "intérêt légitime",
        "--role", "gérante", "--email", "marie.dupont@example.org", "--telephone", "04 92 00 00 00",
    )  # fmt: skip
    assert "Personne n° 1" in added.stdout
    ok(loaded, "note", CAE, "Appel avec Marie Dupont, très intéressée", "--auteur", "Alice")
    shown = ok(loaded, "show", CAE).stdout
    assert "marie.dupont@example.org" in shown

    out = tmp_path / "rgpd" / "marie.json"
    result = ok(loaded, "person-export", "marie.dupont@example.org", "--out", str(out))
    assert "1 fiche(s) de personne et 1 mention(s)" in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["personnes"][0]["nom"] == "Marie Dupont"
    assert data["personnes"][0]["telephone"] == "04 92 00 00 00"
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    ok(loaded, "forget", "1", "--auteur", "Alice")
    shown = ok(loaded, "show", CAE).stdout
    assert "Marie Dupont" not in shown
    assert "marie.dupont@example.org" not in shown
    assert "[donnée effacée]" in shown
    assert "effacement de données personnelles" in shown
    exported = tmp_path / "after.csv"
    ok(loaded, "export", str(exported))
    assert "Dupont" not in exported.read_text(encoding="utf-8")
    message = one_line_error(run(loaded, "forget", "marie.dupont@example.org", "--auteur", "A"))
    assert "marie.dupont@example.org" in message
    assert "ni un numéro" in one_line_error(
        run(loaded, "person-export", "Marie", "--out", str(out))
    )
    assert "base légale" in one_line_error(
        run(loaded, "person-add", CAE, "--nom", "X", "--base-legale", "parce que")
    )


def test_default_database_is_in_the_data_folder(structures: Path, tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "TIERSLIEUX_DATABASE_URL": None,
        "XDG_DATA_HOME": str(tmp_path / "data-home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache-home"),
    }
    ok(env, "load", str(structures))
    path = tmp_path / "data-home" / "tierslieux" / "contacts.sqlite"
    assert path.is_file()
    assert not (tmp_path / "cache-home").exists()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM structures").fetchone() == (2,)


def test_default_database_path_without_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_database_path() == (
        Path.home() / ".local" / "share" / "tierslieux" / "contacts.sqlite"
    )


def test_database_url_option_wins_over_the_environment(
    env: dict[str, str | None], structures: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.sqlite"
    ok(env, "load", str(structures), "--database-url", f"sqlite:///{other}")
    assert other.is_file()
    assert CAE in ok(env, "list", "--database-url", f"sqlite:///{other}").stdout
    assert not (tmp_path / "contacts.sqlite").exists()
    message = one_line_error(run(env, "list", "--database-url", "mysql://x@localhost/db"))
    assert "non prise en charge" in message


# -- PostgreSQL --------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh schema on the PostgreSQL test server; skips when none answers."""
    for user in PG_USERS:
        base = f"postgresql+psycopg://{user}@{PG_HOST}/test"
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        try:
            with admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except exc.OperationalError:
            admin.dispose()
            continue
        schema = f"t_{uuid.uuid4().hex}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options=-csearch_path%3D{schema}"
        try:
            yield url
        finally:
            dispose_engine(url)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        return
    pytest.skip(f"PostgreSQL absent sur {PG_HOST} : test du mode serveur ignoré")


@pytest.mark.postgres
def test_contacts_on_postgresql(pg_url: str, structures: Path, tmp_path: Path) -> None:
    env = _env(pg_url, tmp_path)
    assert "2 nouvelles" in ok(env, "load", str(structures)).stdout
    assert "2 inchangées" in ok(env, "load", str(structures)).stdout
    ok(env, "set-status", CAE, "intéressé", "--auteur", "Alice", "--version", "1")
    message = one_line_error(
        run(env, "set-status", CAE, "partenaire", "--auteur", "Bob", "--version", "1")
    )
    assert "Alice" in message
    ok(env, "note", CAE, "Réunion au parc", "--auteur", "Bob")
    shown = ok(env, "show", CAE).stdout
    assert "Statut : intéressé" in shown
    assert "Réunion au parc" in shown
    exported = tmp_path / "pg.csv"
    ok(env, "export", str(exported))
    assert "0 événement(s) ajouté(s), 2 déjà présent(s)" in ok(env, "import", str(exported)).stdout


@pytest.mark.parametrize("version", ["-1", "0"])
def test_impossible_version_is_not_a_concurrent_change(
    loaded: dict[str, str | None], version: str
) -> None:
    result = run(loaded, "set-status", CAE, "contacte", "--version", version, "--auteur", "A")
    message = one_line_error(result)
    assert f"Version {version} invalide" in message
    assert "modifiée par quelqu'un d'autre" not in message
