"""``--lang en`` reaches what Typer builds at import: help texts and input names in messages.

Help texts are French literals evaluated when the CLI module is imported, before
``--lang`` is parsed; the entry point (:func:`tierslieux.cli.main`) reads the language
from the command line first and translates the Click command tree
(:func:`tierslieux.cli.command_for`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.testing
from typer.testing import CliRunner

from tierslieux.cli import app, command_for
from tierslieux.cli.common import help_texts, language_from
from tierslieux.i18n import N_, gettext, use_language

runner = CliRunner()

#: Words of the French help texts that an English help must not contain.
FRENCH_WORDS = (
    "Dossier",
    "Fichier",
    "fichier",
    "Seuil",
    "défaut",
    "Afficher",
    "Langue",
    "Serveur",
    "sortie",
    "Compter",
    "usagers",
    "Territoire",
    "Choisir",
    "Suivi",
    "Questionnaire des",
    "introuvable",
    "grille",
    "densité",
)
#: French typography: a space before ':', ';' or '%'.
FRENCH_SPACING = re.compile(r"\w[ \u00a0\u202f](?::|%|;)")
#: Data values legitimately French in an English help (choices of French option values).
ALLOWED = re.compile(r"à contacter.*?\(accents and case ignored\)", re.DOTALL)


def _assert_english(what: str, text: str) -> None:
    text = ALLOWED.sub(" ", text)
    # Whole words: option and file names (--part-usagers, grille_densite_*) are not text.
    found = [w for w in FRENCH_WORDS if re.search(rf"(?<![\w-]){w}(?![\w-])", text)]
    assert not found, f"{what}: French words {found} in:\n{text}"
    spaced = FRENCH_SPACING.findall(text)
    assert not spaced, f"{what}: French spacing {spaced[:5]} in:\n{text}"


def _help(args: list[str], env: dict[str, str] | None = None) -> str:
    """Run ``args`` through the entry point's command tree, as ``tierslieux`` does."""
    environ = {"COLUMNS": "200", **(env or {})}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        # Typer's runner builds the tree of a Typer app; give it the entry point's.
        patch.setattr(typer.testing, "_get_command", lambda _app: command_for(args))
        result = runner.invoke(app, args, env=environ)
    assert result.exit_code == 0, result.output
    return result.output


# --- the language is known before Click parses ------------------------------------------


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["diagnose", "--help"], {}, "fr"),
        (["diagnose", "--help", "--lang", "en"], {}, "en"),
        (["--lang", "en", "diagnose", "--help"], {}, "en"),
        (["sites", "--lang=en", "--help"], {}, "en"),
        (["survey", "--help"], {"TIERSLIEUX_LANG": "en"}, "en"),
        (["--lang", "fr", "survey"], {"TIERSLIEUX_LANG": "en"}, "fr"),  # the line wins
        (["diagnose", "--lang", "de"], {}, "fr"),  # unknown: the command reports it
        (["diagnose", "--lang"], {}, "fr"),
        (["contacts", "add-note", "--", "--lang", "en"], {}, "fr"),  # after --: an argument
    ],
)
def test_language_from_the_command_line(
    args: list[str], environ: dict[str, str], expected: str
) -> None:
    assert language_from(args, environ) == expected


# --- help texts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "english"),
    [
        (["--lang", "en", "diagnose", "--help"], "Count the potential users of a tiers-lieu"),
        (["diagnose", "--help", "--lang", "en"], "Output folder (created if needed)."),
        (["sites", "--help", "--lang=en"], "Number of sites to choose."),
        (["--lang", "en", "contacts", "--help"], "List the contact records"),
        (["contacts", "set-status", "--help", "--lang", "en"], "Who makes the change"),
        (["survey", "import", "--help", "--lang", "en"], "Record nothing if a row is rejected."),
        (["--help", "--lang", "en"], "Territorial diagnostic for launching rural tiers-lieux"),
        (["data", "build", "--help", "--lang", "en"], "Build the workspace"),
    ],
)
def test_help_in_english(args: list[str], english: str) -> None:
    text = _help(args)
    assert english in text
    _assert_english(" ".join(args), text)


def test_help_follows_tierslieux_lang() -> None:
    text = _help(["diagnose", "--help"], {"TIERSLIEUX_LANG": "en"})
    assert "Count the potential users" in text
    _assert_english("TIERSLIEUX_LANG=en diagnose --help", text)


def test_help_in_french_unchanged() -> None:
    text = _help(["diagnose", "--help"])
    assert "Compter les usagers potentiels d'un tiers-lieu par commune et par bassin." in text
    assert "Dossier de sortie (créé si besoin)." in text
    assert "Count the potential" not in text
    # The app object keeps its French texts: a later French run is not affected.
    assert "Compter les usagers" in runner.invoke(app, ["diagnose", "--help"]).output


def test_every_help_text_has_an_english_translation() -> None:
    texts = [text for _, text in help_texts(typer.main.get_command(app))]
    assert len(texts) > 100
    with use_language("en"):
        same = [text for text in texts if gettext(text) == text]
    # Texts that read the same in both languages (file formats, option values).
    assert all(not re.search(r"[éèàù]|\b(?:le|la|les|des|du)\b", text) for text in same), same


def test_entry_point_reads_lang_before_click() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tierslieux.cli import main; main()",
            "sites",
            "--help",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "", "TIERSLIEUX_LANG": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Choose pilot sites" in result.stdout
    _assert_english("tierslieux sites --help --lang en", result.stdout)


# --- the root --lang and the messages ---------------------------------------------------


def test_root_lang_sets_the_language_of_the_command(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["--lang", "en", "diagnose", "--territory", "dep:ZZZ", "--out", str(tmp_path)], env=env
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error:"), result.stderr
    # The language is reset afterwards (no leak into the next run of this thread).
    again = runner.invoke(
        app, ["diagnose", "--territory", "dep:ZZZ", "--out", str(tmp_path)], env=env
    )
    assert again.stderr.startswith("Erreur :"), again.stderr


def test_root_lang_unknown_is_refused() -> None:
    result = runner.invoke(app, ["--lang", "de", "diagnose", "--help"])
    assert result.exit_code == 2
    assert "Langue inconnue : de" in result.output


def test_role_of_an_input_is_translated_with_the_message() -> None:
    message = "Fichier {role} introuvable : {path}."
    with use_language("en"):
        assert gettext(message, role=N_("grille de densité"), path="p") == (
            "density grid file not found: p."
        )
        # Other parameters are data: never translated (a path may read like a message).
        assert gettext(message, role="x", path="grille de densité") == (
            "x file not found: grille de densité."
        )
    assert gettext(message, role="grille de densité", path="p") == (
        "Fichier grille de densité introuvable : p."
    )


@pytest.mark.parametrize("where", ["--lang en at the end", "--lang en first"])
def test_missing_density_file_in_english(tmp_path: Path, env: dict[str, str], where: str) -> None:
    args = ["diagnose", "--demo", "--densite", str(tmp_path / "absent.xlsx")]
    args += ["--out", str(tmp_path / "out")]
    args = [*args, "--lang", "en"] if where.endswith("end") else ["--lang", "en", *args]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: density grid file not found:"), result.stderr
    _assert_english("missing density file", result.stderr)


# --- column headers of the pages ---------------------------------------------------------

SURVEY = Path(__file__).resolve().parent / "data" / "survey"
HEADER = re.compile(r"<th>([^<]*)</th>")


def _sites_page(tmp_path: Path, env: dict[str, str], *lang: str) -> tuple[list[str], Path]:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\n"
        "s1,Coop A,cae,ess_cooperation,00101\n"
        "s2,Asso B,association_teleactivites,culture;tic,00108\n",
        encoding="utf-8",
    )
    out = tmp_path / f"sites{'-'.join(lang)}"
    args = ["sites", "--demo", "--count", "2", "--objective", "co2"]
    args += ["--structures", str(structures), "--out", str(out), *lang]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return HEADER.findall((out / "sites.html").read_text(encoding="utf-8")), out


def test_sites_page_names_its_columns_for_the_reader(tmp_path: Path, env: dict[str, str]) -> None:
    french, out = _sites_page(tmp_path, env)
    english, out_en = _sites_page(tmp_path, env, "--lang", "en")
    # No raw column name (tonnes_co2e_an_bas, perte_pct...) in the headers.
    assert not [h for h in french + english if "_" in h], french + english
    assert {"Rang", "Perte si retiré", "Part couverte", "Paramètre"} <= set(french)
    assert {"Rank", "Loss if removed", "Share covered", "Parameter"} <= set(english)
    _assert_english("sites.html headers", " ".join(english))
    # The map's tooltips follow the language's typography.
    titles = re.findall(
        r"<title>([^<]*\(\d+\)[^<]*)</title>", (out_en / "sites.html").read_text("utf-8")
    )
    assert titles
    assert not [t for t in titles if " : " in t], titles[:3]
    assert any("): " in t for t in titles), titles[:3]
    # The CSV files keep their column names.
    assert (out / "sites.csv").read_text(encoding="utf-8").startswith("rang,code,nom,valeur,")
    assert "perte_pct" in (out / "alternatives.csv").read_text(encoding="utf-8")


def test_survey_page_names_the_group_columns(tmp_path: Path, store_env: dict[str, str]) -> None:
    env = store_env
    communes = str(SURVEY / "communes_enquete.csv")
    answers = [str(SURVEY / "reponses_valides.csv"), "--mapping"]
    answers += [str(SURVEY / "correspondance.yaml"), "--communes", communes]
    assert runner.invoke(app, ["survey", "import", *answers], env=env).exit_code == 0
    pages = {}
    for lang in ("fr", "en"):
        out = tmp_path / lang
        args = ["survey", "analyse", "--territory", "dep:05", "--communes", communes]
        result = runner.invoke(app, [*args, "--out", str(out), "--lang", lang], env=env)
        assert result.exit_code == 0, result.output
        pages[lang] = HEADER.findall((out / "survey.html").read_text(encoding="utf-8"))
    assert "Diamètre (minutes)" in pages["fr"]
    assert "Diameter (minutes)" in pages["en"]
    assert not [h for h in pages["fr"] + pages["en"] if "_" in h]
    header = (tmp_path / "en" / "groups.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("groupe,theme,membres,")
