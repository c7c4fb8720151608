"""Translation catalogues: extracted from the code, English complete, ``--lang en`` in English.

When a test here fails after adding or changing a message, run
``python tools/i18n.py update``, translate the new entries of
``src/tierslieux/locales/en/LC_MESSAGES/tierslieux.po`` and ``python tools/i18n.py check``.
"""

from __future__ import annotations

import html
import importlib.util
import re
import string
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from tierslieux import i18n
from tierslieux.cli import app
from tierslieux.i18n import N_, gettext, use_language
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.survey import SCORE_CRITERIA

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "src" / "tierslieux" / "locales"
POT = LOCALES / "tierslieux.pot"
EN_PO = LOCALES / "en" / "LC_MESSAGES" / "tierslieux.po"
SURVEY = ROOT / "tests" / "data" / "survey"
runner = CliRunner()


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _ids(catalog: Catalog) -> set[str]:
    return {m.id for m in catalog if m.id and isinstance(m.id, str)}


# --- (a) English complete -------------------------------------------------------------


def test_every_message_has_an_english_translation_with_the_same_placeholders() -> None:
    catalog = _read(EN_PO)
    template = _ids(_read(POT))
    assert template, "empty .pot"
    assert _ids(catalog) == template, "run `python tools/i18n.py update`"
    missing, fuzzy, placeholders = [], [], []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) else ""
        if not text.strip():
            missing.append(message.id)
        elif message.fuzzy:
            fuzzy.append(message.id)
        elif _fields(text) != _fields(message.id):
            placeholders.append(message.id)
    assert not missing, f"{len(missing)} message(s) without English: {missing[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy translation(s) to review: {fuzzy[:10]}"
    assert not placeholders, f"placeholders differ: {placeholders[:10]}"


def test_messages_with_placeholders_are_flagged_python_brace_format() -> None:
    for message in _read(POT):
        if message.id and isinstance(message.id, str) and _fields(message.id):
            assert "python-brace-format" in message.flags, message.id


def test_check_reports_an_untranslated_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _tool()
    catalog = _read(EN_PO)
    first = next(m for m in catalog if m.id)
    first.string = ""
    po = tmp_path / "en" / "LC_MESSAGES" / "tierslieux.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as handle:
        from babel.messages.pofile import write_po  # noqa: PLC0415

        write_po(handle, catalog)
    monkeypatch.setattr(tool, "LOCALES", tmp_path)
    monkeypatch.setattr(tool, "POT", POT)
    assert tool.problems("en") == [f"untranslated: {first.id!r}"]


# --- (b) the .pot follows the code ---------------------------------------------------


def test_pot_is_up_to_date_with_the_code() -> None:
    tool = _tool()
    code = _ids(tool.extract())
    pot = _ids(_read(POT))
    assert not code - pot, (
        f"not in the .pot, run `python tools/i18n.py update`: {sorted(code - pot)[:10]}"
    )
    assert not pot - code, f"no longer in the code, run update: {sorted(pot - code)[:10]}"


def test_extraction_sees_templates_fstrings_and_markers() -> None:
    messages = _ids(_read(POT))
    assert "Chiffres clés" in messages  # Jinja template
    assert "Sites retenus" in messages  # _() inside an f-string (reports/sites.py)
    assert "Ouvriers" in messages  # N_() in a table (model/reference.py)
    assert "2 chiffres, par exemple 93" in messages  # N_() in model/territory.py


@pytest.mark.parametrize(
    "table", ["classification_rules.csv", "demo/acteurs_fictifs.csv"], ids=["rules", "demo"]
)
def test_every_reason_of_a_packaged_table_is_a_translated_message(table: str) -> None:
    """The ``raison`` sentences of the packaged tables are messages (the extractor reads
    the CSV), translated into English with the same placeholders."""
    import csv  # noqa: PLC0415

    path = ROOT / "src" / "tierslieux" / "data" / table
    with path.open(encoding="utf-8", newline="") as handle:
        reasons = [row["raison"].strip() for row in csv.DictReader(handle)]
    assert reasons
    with path.open("rb") as handle:
        extracted = {text for _, _, text, _ in _tool().extract_data_csv(handle, {}, (), {})}
    assert extracted == set(reasons)
    assert not set(reasons) - _ids(_read(POT)), "run `python tools/i18n.py update`"
    english = {m.id: m.string for m in _read(EN_PO) if m.id in set(reasons)}
    for reason in reasons:
        assert english[reason], f"no English for {reason!r}"
        assert english[reason] != reason
        assert _fields(english[reason]) == _fields(reason)


def test_check_command_passes_and_is_fast() -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "tools" / "i18n.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 to translate or fix" in result.stdout


# --- runtime -------------------------------------------------------------------------


def test_gettext_reads_the_po_and_falls_back_to_french() -> None:
    assert gettext("Chiffres clés") == "Chiffres clés"
    with use_language("en"):
        assert gettext("Chiffres clés") == "Key figures"
        assert gettext("Fichier {role} introuvable : {path}.", role="x", path="p") == (
            "x file not found: p."
        )
        assert (
            gettext("Un texte qui n'est pas au catalogue") == "Un texte qui n'est pas au catalogue"
        )
        assert gettext(N_("Ouvriers")) == "Manual workers"
    assert N_("Ouvriers") == "Ouvriers"


def test_language_is_per_context() -> None:
    assert i18n.current_language() == "fr"
    with use_language("en"):
        assert i18n.current_language() == "en"
    assert i18n.current_language() == "fr"
    with pytest.raises(ValueError, match="Langue inconnue"), use_language("de"):
        pass


@pytest.mark.parametrize(
    ("value", "decimals", "french", "english"),
    [
        (1234567.891, 2, "1\u202f234\u202f567,89", "1,234,567.89"),
        (-14055.186, 0, "-14\u202f055", "-14,055"),
        (999.5, 0, "1\u202f000", "1,000"),
        (2.675, 2, "2,67", "2.67"),  # the float's exact value rounds down, as f"{:.2f}"
        (0.0, 1, "0,0", "0.0"),
    ],
)
def test_format_number_from_babel(value: float, decimals: int, french: str, english: str) -> None:
    assert i18n.format_number(value, decimals) == french
    assert i18n.format_number(value, decimals) == f"{value:,.{decimals}f}".replace(
        ",", "\u202f"
    ).replace(".", ",")
    with use_language("en"):
        assert i18n.format_number(value, decimals) == english


def test_format_percent_keeps_the_narrow_space_in_french() -> None:
    assert i18n.format_percent(0.604) == "60\u202f%"
    assert i18n.format_percent(1.0) == "100\u202f%"
    with use_language("en"):
        assert i18n.format_percent(0.604) == "60%"
        assert i18n.format_percent(12.5, 0) == "1,250%"


# --- (c) --lang en end to end --------------------------------------------------------

#: Words only a French page would contain (« commune » is English too). Data values
#: (commune names, zoning labels, the study's quotations) are removed before the search.
FRENCH_WORDS = (
    "Usagers",
    "usagers",
    "Attention",
    "Méthode",
    "habitants",
    "données",
    "Fichiers écrits",
    "répondant",
    "Carte",
    "Sensibilité",
    "Sites retenus",
    "Chiffres clés",
    "Catégorie",
    "Erreur",
    "Typologie",
    "Référence",
    "Ouvriers",
    "estimés",
    "territoire",
    "Bassins",
    "écart",
)
#: French typography: a space before ':' or '%'.
FRENCH_SPACING = re.compile(r"\w[ \u00a0\u202f](?::|%|;)")


def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _allowed_data(text: str) -> str:
    """Remove data values that are legitimately French (names, labels, quotations)."""
    for criterion in SCORE_CRITERIA:
        text = text.replace(criterion.critere, " ")
    # The questionnaire is French data: its questions and options as respondents saw them.
    questions = load_questionnaire().questions
    labels = [q.label for q in questions] + [o.label for q in questions for o in q.options]
    for label in sorted(labels, key=len, reverse=True):
        text = text.replace(label, " ")
    text = re.sub(r"\(?bassins? de vie", " ", text)  # the INSEE zoning's own name
    text = re.sub(r"« [^»]* »", " ", text)  # quoted titles and data
    return re.sub(r"[\w'’ -]+ \(FICTIF\)", " ", text)  # the demo's commune names


def _assert_english(what: str, text: str) -> None:
    text = _allowed_data(text)
    found = [word for word in FRENCH_WORDS if re.search(rf"(?<!\w){re.escape(word)}", text)]
    assert not found, f"{what}: French words {found} in: {text[:3000]}"
    spaced = FRENCH_SPACING.findall(text)
    assert not spaced, f"{what}: French spacing {spaced[:5]} in: {text[:3000]}"


def _run_en(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, [*args, "--lang", "en"], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout + result.stderr


def test_diagnose_demo_in_english(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "diag"
    terminal = _run_en(env, "diagnose", "--demo", "--out", str(out))
    _assert_english("diagnose terminal", terminal)
    assert "estimated potential users" in terminal
    page = _visible_text((out / "report.html").read_text(encoding="utf-8"))
    _assert_english("report.html", page)
    assert "Key figures" in page
    assert "Manual workers" in page


@pytest.mark.parametrize("objective", ["couverture", "co2"])
def test_sites_demo_in_english(tmp_path: Path, env: dict[str, str], objective: str) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\n"
        "s1,Coop A,cae,ess_cooperation,00101\n"
        "s2,Asso B,association_teleactivites,culture;tic,00108\n",
        encoding="utf-8",
    )
    out = tmp_path / "sites"
    terminal = _run_en(
        env,
        "sites",
        "--demo",
        "--count",
        "2",
        "--objective",
        objective,
        "--structures",
        str(structures),
        "--out",
        str(out),
    )
    _assert_english("sites terminal", terminal)
    page = _visible_text((out / "sites.html").read_text(encoding="utf-8"))
    _assert_english("sites.html", page)
    assert "Chosen sites" in page
    if objective == "co2":
        assert "rebound effects: −31% of the benefit" in page


def test_survey_analyse_in_english(tmp_path: Path, store_env: dict[str, str]) -> None:
    env = store_env
    communes = str(SURVEY / "communes_enquete.csv")
    mapping = str(SURVEY / "correspondance.yaml")
    answers = str(SURVEY / "reponses_valides.csv")
    terminal = _run_en(
        env, "survey", "import", answers, "--mapping", mapping, "--communes", communes
    )
    _assert_english("survey import terminal", terminal)
    out = tmp_path / "analyse"
    terminal = _run_en(
        env, "survey", "analyse", "--territory", "dep:05", "--communes", communes, "--out", str(out)
    )
    _assert_english("survey analyse terminal", terminal)
    page = _visible_text((out / "survey.html").read_text(encoding="utf-8"))
    _assert_english("survey.html", page)
    assert "Works at a connected computer" in page


def test_errors_in_english(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["diagnose", "--territory", "dep:ZZZ", "--lang", "en", "--out", str(tmp_path)], env=env
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error:"), result.stderr
    _assert_english("error", result.stderr)
