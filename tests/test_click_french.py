"""The command-line framework's own words (Typer, Click) in French, or English with --lang en.

Missing argument or option, unknown option or command, bad value, extra arguments,
``--help``: in French by default, nothing of Click's English left for these common
cases; in English with ``--lang en`` (anywhere on the line, on a group too) or
``TIERSLIEUX_LANG=en``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.cli.framework import missing_framework_texts, prompt_secret

runner = CliRunner()

#: Click's and Typer's English, as they write it: none of it may be left in French.
ENGLISH = (
    "Usage",
    "Try ",
    "for help",
    "Error",
    "Missing",
    "No such",
    "Invalid value",
    "Did you mean",
    "Possible options",
    "Got unexpected",
    "requires an argument",
    "Show this message",
    "Commands",
    "COMMAND",
    "[ARGS]",
    "[required]",
    "[default",
    "Input should be",
    "<str>",
    "<int>",
    "<float>",
    "<path>",
    "<bool>",
)


def invoke(*args: str, lang: str | None = None) -> Result:
    env = {"COLUMNS": "120", "TIERSLIEUX_LANG": lang, "TIERSLIEUX_DATABASE_URL": None}
    return runner.invoke(app, list(args), env=env)


def flat(text: str) -> str:
    """The text without Rich's panel borders and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _found(word: str, text: str) -> bool:
    """Whether ``word`` is in ``text`` as a word (« COMMANDE » is not « COMMAND »)."""
    end = r"(?!\w)" if word[-1].isalnum() else ""
    return re.search(rf"(?<!\w){re.escape(word)}{end}", text) is not None


def assert_french(text: str) -> None:
    left = [word for word in ENGLISH if _found(word, text)]
    assert not left, f"English left {left} in:\n{text}"


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (["contacts", "show"], "Argument manquant : « identifiant »."),
        (["contacts", "set-status", "X", "Y"], "Option manquante : « --auteur »."),
        (["contacts", "list", "--statu", "x"], "Option inconnue : --statu (options possibles :"),
        (["contacts", "lis"], "Commande inconnue : « lis ». Vouliez-vous dire « list » ?"),
        (["contacts", "list", "a", "b"], "Argument(s) en trop : a b."),
        (
            ["contacts", "set-status", "X", "Y", "--auteur", "a", "--version", "abc"],
            "Valeur invalide pour « --version » : « abc » n'est pas un nombre entier.",
        ),
        (
            ["sites", "--out", "x", "--count", "3", "--minutes", "vingt"],
            "Valeur invalide pour « --minutes » : « vingt » n'est pas un nombre.",
        ),
        (
            ["contacts", "set-status", "X", "Y", "--auteur"],
            "L'option « --auteur » attend une valeur.",
        ),
        (["nimporte"], "Commande inconnue : « nimporte »."),
    ],
)
def test_usage_errors_in_french(args: list[str], french: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    text = flat(result.stderr)
    assert french in text
    assert "Erreur" in text
    assert "Traceback" not in result.output
    assert_french(result.stderr)


def test_usage_line_and_help_hint_in_french() -> None:
    text = flat(invoke("contacts", "show").stderr)
    assert "Utilisation : tierslieux contacts show [OPTIONS] {identifiant}" in text
    assert "Aide : tierslieux contacts show --help" in text


@pytest.mark.parametrize(
    ("args", "english"),
    [
        (["contacts", "show", "--lang", "en"], "Missing argument 'identifiant'."),
        (["--lang", "en", "contacts", "set-status", "X", "Y"], "Missing option '--auteur'."),
        (["contacts", "--lang", "en", "list", "--statu", "x"], "No such option: --statu"),
        (["contacts", "lis", "--lang", "en"], "No such command 'lis'. Did you mean 'list'?"),
        (
            ["contacts", "set-status", "X", "Y", "--auteur", "a", "--version", "1.5", "--lang=en"],
            "Invalid value for '--version': '1.5' is not a valid integer.",
        ),
    ],
)
def test_usage_errors_in_english(args: list[str], english: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    text = flat(result.stderr)
    assert english in text
    assert "Usage: tierslieux contacts" in text
    assert "Try 'tierslieux contacts" in text
    assert "for help." in text
    assert "Error" in text
    for french in ("Utilisation", "Erreur", "manquant", "inconnue", "Vouliez"):
        assert french not in text


def test_tierslieux_lang_gives_english_and_the_line_wins() -> None:
    assert "Missing argument 'identifiant'." in flat(invoke("contacts", "show", lang="en").stderr)
    french = invoke("contacts", "show", "--lang", "fr", lang="en").stderr
    assert "Argument manquant" in flat(french)


def test_no_leak_from_one_run_to_the_next() -> None:
    invoke("contacts", "show", "--lang", "en")
    again = invoke("contacts", "show")
    assert "Argument manquant" in flat(again.stderr)
    assert_french(again.stderr)


def test_lang_on_a_group_is_accepted_and_checked() -> None:
    assert invoke("contacts", "--lang", "en", "--help").exit_code == 0
    for group in ("survey", "db", "users", "data", "synth"):
        result = invoke(group, "--lang", "en", "--help")
        assert result.exit_code == 0, result.output
        assert "Show this message and exit." in result.stdout
    refused = invoke("contacts", "--lang", "de", "list")
    assert refused.exit_code == 2
    assert "Langue inconnue : de (attendu : fr, en)." in flat(refused.stderr)


# --- help ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["Utilisation : tierslieux [OPTIONS] COMMANDE [ARGUMENTS]...", "Commandes"]),
        (["contacts", "--help"], ["COMMANDE [ARGUMENTS]...", "Commandes"]),
        (["contacts", "list", "--help"], ["--categorie", "<texte>", "<chemins>"]),
        (["sites", "--help"], ["[obligatoire]", "[défaut : couverture]", "<entier>", "<nombre>"]),
        (["fetch", "--help"], ["Arguments", "<textes>"]),
    ],
)
def test_help_in_french(args: list[str], expected: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert "Afficher cette aide et quitter." in text
    assert "Options" in text
    for words in expected:
        assert words in text
    assert_french(result.stdout)


def test_help_in_english() -> None:
    text = flat(invoke("sites", "--help", "--lang", "en").stdout)
    for words in (
        "Usage: tierslieux sites [OPTIONS]",
        "Show this message and exit.",
        "[required]",
        "[default: couverture]",
        "<int>",
        "Number of sites to choose.",
    ):
        assert words in text
    for french in ("Utilisation", "Afficher cette aide", "obligatoire", "défaut", "<entier>"):
        assert french not in text


def test_group_help_in_english() -> None:
    text = flat(invoke("--lang", "en", "contacts", "--help").stdout)
    assert "Usage: tierslieux contacts [OPTIONS] COMMAND [ARGS]..." in text
    assert "Commands" in text


def test_flags_show_no_type() -> None:
    text = invoke("data", "show", "--help").stdout
    line = next(line for line in text.splitlines() if "--verify" in line)
    assert "<" not in line


# --- the real entry point and the check of the catalogue -------------------------------


def test_entry_point_speaks_french_and_english() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own entry point
            [sys.executable, "-c", "from tierslieux.cli import main; main()", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={"COLUMNS": "120", "PATH": "", "TIERSLIEUX_LANG": ""},
        )

    french = run("contacts", "show")
    assert french.returncode == 2
    assert "Argument manquant : « identifiant »." in flat(french.stderr)
    assert_french(french.stderr)
    english = run("contacts", "show", "--lang", "en")
    assert "Missing argument 'identifiant'." in flat(english.stderr)


def test_typer_still_writes_what_is_translated() -> None:
    # Also run by ``tools/i18n.py check``: a Typer release that rewords a message fails here.
    assert missing_framework_texts() == []


def test_secret_prompt_in_french() -> None:
    prompts = typer.Typer()

    @prompts.command()
    def ask() -> None:
        typer.echo(f"[{prompt_secret('Mot de passe')}]")

    result = runner.invoke(prompts, [], input="un\ndeux\ntrois\ntrois\n")
    assert result.exit_code == 0, result.output
    assert "Répétez pour confirmer" in result.output
    assert "les deux saisies diffèrent" in result.output
    assert "[trois]" in result.output
    assert_french(result.output)
