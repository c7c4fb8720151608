"""Structured errors and notes: fields, gathered problems, rendering per interface."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.cli.common import cli_label
from tierslieux.config import Settings
from tierslieux.errors import (
    INPUTS,
    Input,
    Message,
    Note,
    Problem,
    Problems,
    SchemaError,
    SourceError,
    TierslieuxError,
    default_label,
    render_all,
    use_labels,
)
from tierslieux.i18n import use_language
from tierslieux.model.structures import BaseCommunityRule
from tierslieux.model.uptake import uptake
from tierslieux.pipeline.survey import import_answers, submit_answers

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tierslieux"
SURVEY = ROOT / "tests" / "data" / "survey"
runner = CliRunner()

#: A CLI flag written in a message: ``--territory``, ``(--min-par-epci)``, ``--rural x``.
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

#: String literals allowed to hold a flag-like text outside ``cli/``, with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("sources/survey_mapping.py", "--mapping"): "the proposed YAML mapping says how to use it",
}


def test_a_problem_carries_its_field_and_parameters() -> None:
    problem = Problem.of("{minutes} vaut {v} : trop court.", field="minutes", v=0)
    assert problem.field == "minutes"
    assert problem.params == {"v": 0}
    assert problem.inputs == ("minutes",)
    assert problem.render(cli_label) == "--minutes vaut 0 : trop court."
    assert str(problem) == "« minutes » vaut 0 : trop court."
    error = SchemaError(problem)
    assert error.problems == (problem,)
    assert [p.field for p in error.problems] == ["minutes"]
    assert isinstance(error, ValueError)


def test_plain_translated_strings_still_work() -> None:
    error = SourceError("Fichier absent.")
    assert str(error) == "Fichier absent."
    assert error.problems[0].field is None
    assert error.problems[0].translated
    with pytest.raises(TierslieuxError, match=r"^Fichier absent\.$"):
        raise error


def test_several_problems_are_gathered_before_raising() -> None:
    with pytest.raises(SchemaError) as caught:
        BaseCommunityRule(min_structures=0, min_members=-1)
    assert [p.field for p in caught.value.problems] == ["min_structures", "min_members"]
    with use_labels(cli_label):
        text = str(caught.value)
    assert "--min-structures vaut 0" in text
    assert "--min-membres vaut -1" in text
    with pytest.raises(SchemaError) as caught:
        uptake(users_share=2.0, days_per_week=9.0, working_days=0.0)
    fields = [p.field for p in caught.value.problems]
    assert fields == ["users_share", "days_per_week", "working_days"]


def test_problems_collector_and_summary() -> None:
    found = Problems()
    found.raise_if_any()  # nothing found: nothing raised
    found.add("réponse obligatoire manquante", field="statut")
    found.add(Problem.of("« {value} » inconnue", field="commune_residence", value="Atlantis"))
    found.add("ligne illisible")
    assert len(found) == 3
    with pytest.raises(SchemaError) as caught:
        found.raise_if_any(summary="Refusé : {problems}.")
    assert str(caught.value) == (
        "Refusé : statut : réponse obligatoire manquante; commune_residence : « Atlantis » "
        "inconnue; ligne illisible."
    )
    without = SchemaError(*caught.value.problems)
    assert str(without).startswith("réponse obligatoire manquante « Atlantis »")


def test_rendered_in_the_language_of_the_reader_not_the_raiser() -> None:
    with use_language("fr"):
        error = SourceError(Problem.of("Fichier {role} introuvable : {path}.", role="X", path="p"))
    assert str(error) == "Fichier X introuvable : p."
    with use_language("en"):
        assert str(error) == "X file not found: p."
        assert Note("Erreur :").render() == "Error:"
    # An already translated text is shown as written.
    with use_language("en"):
        assert str(SchemaError("Texte déjà traduit.")) == "Texte déjà traduit."


def test_input_names_per_interface() -> None:
    message = Message("Indiquez {territory} (par exemple dep:05) ou {demo}.")
    assert message.render(cli_label) == "Indiquez --territory (par exemple dep:05) ou --demo."
    assert message.render() == "Indiquez « territoire » (par exemple dep:05) ou « démonstration »."
    assert (
        message.render(lambda name: f"<{name}>")
        == "Indiquez <territory> (par exemple dep:05) ou <demo>."
    )
    assert cli_label("travel_times") == "--travel-times"
    assert cli_label("definition") == "--definition-bassin"
    assert cli_label("neighbours") == "--sans-communes-voisines"
    assert cli_label("reseaux") == "--reseaux"
    assert cli_label("commune_residence") == "commune_residence"  # a question id
    assert default_label("densite") == "« grille de densité »"
    chosen = Problem.of("{option} vaut {v}.", option=Input("min_members"), v=0)
    assert chosen.render(cli_label) == "--min-membres vaut 0."
    notes = ["déjà rendu", Note("Limité au territoire ({neighbours}).")]
    with use_labels(cli_label):
        assert render_all(notes) == (
            "déjà rendu",
            "Limité au territoire (--sans-communes-voisines).",
        )
        assert Note.text("({zonages})") == "(--zonages)"
    assert render_all(notes)[1] == "Limité au territoire (« sans communes voisines »)."


def test_errors_survive_pickling_with_their_problems() -> None:
    error = SchemaError(
        Problem.of("{minutes} vaut {v}.", field="minutes", v=0), summary="S : {problems}"
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is SchemaError
    assert copy.problems == error.problems
    assert str(copy) == str(error)


def _cli_options() -> set[str]:
    options: set[str] = set()

    def walk(command: Any) -> None:  # Typer vendors its own click: duck-typed
        for param in command.params:
            options.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return options


def test_every_input_names_an_option_of_the_cli() -> None:
    options = _cli_options()
    missing = {name: cli_label(name) for name in INPUTS if cli_label(name) not in options}
    assert not missing


def test_cli_renders_flag_names_of_a_pipeline_problem(tmp_path: Path) -> None:
    env = {"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")}
    args = ["sites", "--demo", "--count", "1", "--rural", "oui", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "--rural « oui » inconnu" in result.output
    with pytest.raises(SchemaError) as caught:
        BaseCommunityRule(min_structures=0)
    assert "--" not in str(caught.value)  # outside the CLI: no flag text


def test_cli_prints_every_problem_on_one_line(tmp_path: Path) -> None:
    env = {"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")}
    args = ["sites", "--demo", "--count", "1", "--objective", "co2", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--part-usagers", "2", "--jours-par-semaine", "9"], env=env)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("Erreur :"))
    assert "--part-usagers doit être une part" in line
    assert "--jours-par-semaine doit être entre 0 (exclu) et 5" in line


def test_submit_answers_gives_one_problem_per_faulty_question(settings: Settings) -> None:
    answers = {
        "commune_residence": "Atlantis",
        "statut": "astronaute",
        "temps_trajet": "-1",
        "consentement": "oui",
        "inconnue": "x",
    }
    with pytest.raises(SchemaError) as caught:
        submit_answers(settings, answers, communes=(SURVEY / "communes_enquete.csv",))
    problems = caught.value.problems
    fields = [p.field for p in problems]
    assert fields[0] is None  # the unknown question id, not a field of the form
    assert "inconnue" in problems[0].render()
    assert {"commune_residence", "statut", "temps_trajet"} <= set(fields)
    assert len(fields) == len(set(fields))  # one problem per question
    text = str(caught.value)
    assert text.startswith("Réponses refusées, rien n'a été enregistré : question(s) inconnue(s)")
    assert "commune_residence : « Atlantis »" in text
    assert "temps_trajet : valeur impossible" in text


def test_all_or_nothing_import_carries_every_problem_with_its_line(settings: Settings) -> None:
    with pytest.raises(SchemaError) as caught:
        import_answers(
            settings,
            SURVEY / "reponses_adverses.csv",
            SURVEY / "correspondance.yaml",
            communes=(SURVEY / "communes_enquete.csv",),
            all_or_nothing=True,
        )
    problems = caught.value.problems
    assert len({p.line for p in problems}) == 6  # lines 4 and 5: optional answers dropped
    assert all(p.line is not None and p.line >= 2 for p in problems)
    assert any(p.field for p in problems)
    first = problems[0]
    shown = f"ligne {first.line} ({first.field or '—'}) : {first.render()}"
    assert shown in str(caught.value)


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _flag_literals(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith("cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        found.extend(
            f"{relative}:{node.lineno}: {node.value[:80]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and any((relative, flag) not in ALLOWED for flag in FLAG.findall(node.value))
        )
    return found


def test_no_cli_flag_text_below_the_interfaces() -> None:
    assert _flag_literals() == []


def test_the_flag_scan_can_fail(tmp_path: Path) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "ok.py").write_text('X = "--territory"\n', encoding="utf-8")
    (tmp_path / "bad.py").write_text(
        '"""Docstrings may cite ``--data``."""\n\n\ndef f():\n    """Or ``--x``."""\n'
        '    return _("Passez {data}, ou la grille (--densite).")\n',
        encoding="utf-8",
    )
    assert _flag_literals(tmp_path) == ["bad.py:6: 'Passez {data}, ou la grille (--densite).'"]
    assert not FLAG.search("a--b")
    assert not FLAG.search("— x")
