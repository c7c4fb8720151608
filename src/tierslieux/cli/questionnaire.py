"""``tierslieux survey show`` and ``tierslieux survey questionnaire``: the questionnaire out.

``survey show`` prints the questionnaire in the terminal (readable at 80 columns);
``survey questionnaire --out FILE`` writes it for LimeSurvey (``.lss``, imported with
« Créer un questionnaire > Importer ») or for paper (``.html``, ``.pdf``). Both read
the packaged questionnaire, or the file given with ``--questionnaire``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tierslieux.cli.common import DebugOpt, LangOpt, guarded, settings_from, table_console
from tierslieux.cli.common import out_console as _out
from tierslieux.cli.survey import survey_app
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.questionnaire import QuestionnaireDocument, questionnaire_document
from tierslieux.privacy import terminal_safe
from tierslieux.reports.questionnaire import (
    FORMATS,
    consent_notice,
    question_details,
    type_label,
    write_questionnaire,
)

__all__ = ["questionnaire_view", "show", "write"]

QuestionnaireOpt = Annotated[
    Path | None,
    typer.Option(
        "--questionnaire",
        help="Fichier YAML du questionnaire (défaut : la version livrée avec tierslieux).",
    ),
]


def _text(text: str, style: str = "") -> Text:
    return Text(terminal_safe(text), style=style)


def _question_view(number: int, document: QuestionnaireDocument, index: int) -> Table:
    question = document.questionnaire.questions[index]
    facts = [type_label(question)]
    details = question_details(question)
    if details:
        facts.append(details)
    facts.append(_("obligatoire") if question.required else _("facultatif"))
    meta = _text(question.id, "cyan")
    meta.append_text(_text(" · " + " · ".join(facts), "dim"))
    body: list[RenderableType] = [_text(question.label, "bold"), meta]
    if question.options:
        options = Table.grid(padding=(0, 2))
        options.add_column(no_wrap=True, style="cyan")
        options.add_column()
        for option in question.options:
            options.add_row(_text(option.code), _text(option.label))
        body.append(Padding(options, (0, 0, 0, 2)))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", width=3, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(f"{number}.", style="bold"), Group(*body))
    return grid


def questionnaire_view(document: QuestionnaireDocument) -> Group:
    """The questionnaire as a Rich renderable: header, RGPD notice, numbered questions.

    Every text of the definition goes through :func:`tierslieux.privacy.terminal_safe`
    and is never read as Rich markup. Give it the document in the language to show
    (:meth:`~tierslieux.pipeline.questionnaire.QuestionnaireDocument.translated`): the
    packaged definition's texts are in the catalogue, a file of your own is shown as
    written.
    """
    questionnaire = document.questionnaire
    required = sum(q.required for q in questionnaire.questions)
    parts: list[RenderableType] = [
        _text(questionnaire.title or _("Questionnaire"), "bold underline"),
        _text(
            _(
                "Version {version} · {n} questions dont {required} obligatoires · {where}",
                version=questionnaire.version,
                n=len(questionnaire.questions),
                required=required,
                where=document.where,
            ),
            "dim",
        ),
    ]
    if questionnaire.source:
        parts.append(_text(_("Critères de l'étude : {source}", source=questionnaire.source)))
    parts.append(_text(consent_notice(document)))
    for index in range(len(questionnaire.questions)):
        parts.append(Text())
        parts.append(_question_view(index + 1, document, index))
    return Group(*parts)


@survey_app.command("show")
@guarded
def show(
    questionnaire: QuestionnaireOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Afficher le questionnaire : questions numérotées, types, options et leurs codes."""
    document = questionnaire_document(settings_from(lang=lang), questionnaire).translated()
    table_console().print(questionnaire_view(document), soft_wrap=False, highlight=False)


def _format_of(fmt: str | None, out: Path) -> str:
    if fmt is None:
        by_suffix = {suffix: name for name, suffix in FORMATS.items()}
        guessed = by_suffix.get(out.suffix.lower())
        if guessed is None:
            raise TierslieuxError(
                _(
                    "Format de {path} inconnu : indiquez --format ({expected}) ou une "
                    "extension {suffixes}.",
                    path=out,
                    expected=", ".join(FORMATS),
                    suffixes=", ".join(FORMATS.values()),
                )
            )
        return guessed
    if fmt not in FORMATS:
        raise TierslieuxError(
            _(
                "Option --format invalide : {value} (attendu : {expected}).",
                value=fmt,
                expected=", ".join(FORMATS),
            )
        )
    return fmt


@survey_app.command("questionnaire")
@guarded
def write(
    out: Annotated[Path, typer.Option("--out", help="Fichier à écrire (.lss, .html ou .pdf).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="limesurvey (fichier .lss à importer dans LimeSurvey), html ou pdf (à "
            "imprimer) ; défaut : d'après l'extension de --out.",
        ),
    ] = None,
    questionnaire: QuestionnaireOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Écrire le questionnaire pour LimeSurvey (.lss) ou à imprimer (HTML, PDF A4)."""
    kind = _format_of(fmt, out)
    document = questionnaire_document(settings_from(lang=lang), questionnaire)
    path = write_questionnaire(document, kind, out)
    _out.print(
        _text(
            _(
                "Questionnaire version {version} ({n} questions) écrit dans {path}.",
                version=document.questionnaire.version,
                n=len(document.questionnaire.questions),
                path=path,
            )
        )
    )
    if kind == "limesurvey":
        _out.print(
            _text(
                _(
                    "Dans LimeSurvey : Créer un questionnaire > Importer, puis ce fichier. "
                    "Les codes des questions y sont les identifiants du questionnaire sans "
                    "« _ » (commune_residence -> communeresidence)."
                )
            )
        )
