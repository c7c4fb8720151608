"""``tierslieux survey``: the questionnaire of potential users.

Answers are stored in the operational store named by ``--database-url`` (else
``TIERSLIEUX_DATABASE_URL``, else ``~/.local/share/tierslieux/contacts.sqlite``).
Respondents are pseudonymous; ``survey forget`` erases one of them everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierslieux.cli.common import (
    DataOpt,
    DebugOpt,
    LangOpt,
    accept_language,
    guarded,
    settings_from,
    shown,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import out_console as _out
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaign_tools import purge_campaigns
from tierslieux.pipeline.survey import (
    GROUP_CANDIDATE,
    MIN_GROUP_SIZE,
    SurveyAnalysisRequest,
    analyse_survey,
    export_answers,
    forget_respondent,
    import_answers,
    propose_survey_mapping,
    purge_expired,
)
from tierslieux.reports.survey import write_survey

if TYPE_CHECKING:
    from tierslieux.model.survey import SurveyIssue

__all__ = ["survey_app"]

survey_app = typer.Typer(
    help="Questionnaire des usagers potentiels : import, analyse, export, effacement.",
    no_args_is_help=True,
)
survey_app.callback()(accept_language)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Base (sqlite:///chemin.sqlite ou postgresql+psycopg://…) ; défaut : "
        "TIERSLIEUX_DATABASE_URL, sinon ~/.local/share/tierslieux/contacts.sqlite.",
    ),
]
CommunesOpt = Annotated[
    list[Path] | None,
    typer.Option("--communes", help="Fichier(s) des communes (noms et codes Insee)."),
]
DemoOpt = Annotated[
    bool, typer.Option("--demo", help="Communes fictives de démonstration, hors ligne.")
]


def _print(text: str) -> None:
    _out.print(text, highlight=False, markup=False)


def _issue(issue: SurveyIssue) -> str:
    """« ligne 4, colonne « X » (question) : raison »."""
    if issue.column:
        return _(
            "ligne {line}, colonne « {column} » ({q}) : {m}",
            line=issue.line,
            column=issue.column[:80],
            q=issue.question or "—",
            m=issue.message,
        )
    return _("ligne {line} ({q}) : {m}", line=issue.line, q=issue.question or "—", m=issue.message)


@survey_app.command("mapping")
@guarded
def mapping_(
    source: Annotated[
        Path,
        typer.Argument(
            help="Export des réponses (LimeSurvey, Google Forms, Microsoft Forms, "
            "Framaforms ; CSV ou XLSX)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Fichier YAML à écrire (sinon : affiché)."),
    ] = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Proposer la correspondance colonnes -> questions d'un export, à relire."""
    settings_from(lang=lang)
    summary = propose_survey_mapping(source, out=out)
    if out is None:
        _print(summary.text.rstrip("\n"))
    for column, reason in summary.doubtful:
        _err.print(
            shown(_("colonne « {column} » : {reason}", column=column[:80], reason=reason)),
            highlight=False,
        )
    if summary.missing_required:
        _err.print(
            shown(
                _(
                    "question(s) obligatoire(s) sans colonne : {ids}",
                    ids=", ".join(summary.missing_required),
                )
            ),
            highlight=False,
        )
    message = _(
        "{path} : {tool} ; {matched} colonne(s) reconnue(s), {ignored} ignorée(s) "
        "(métadonnées, commentaires), {doubtful} à vérifier.",
        path=summary.path,
        tool=summary.tool_name,
        matched=summary.matched,
        ignored=len(summary.ignored),
        doubtful=len(summary.doubtful),
    )
    if summary.out is not None:
        message += " " + _("Correspondance écrite dans {out}.", out=summary.out)
    if summary.ready:
        message += " " + _("Elle peut servir telle quelle (survey import sans --mapping).")
    (_print if summary.out is not None else _err.print)(message)


@survey_app.command("import")
@guarded
def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="Export des réponses : CSV (« , » ou « ; ») ou XLSX de LimeSurvey, Google "
            "Forms, Microsoft Forms, Framaforms, ou fichier à une colonne par question."
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="Correspondance YAML colonnes/libellés -> questions (sinon : proposée "
            "d'après l'export, si elle est sûre ; voir « survey mapping »).",
        ),
    ] = None,
    communes: CommunesOpt = None,
    data: DataOpt = None,
    demo: DemoOpt = False,
    all_or_nothing: Annotated[
        bool,
        typer.Option("--tout-ou-rien", help="Ne rien enregistrer si une ligne est rejetée."),
    ] = False,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Importer les réponses exportées d'un outil de questionnaire (lignes valides)."""
    settings = settings_from(
        database_url=database_url, lang=lang, data_dir=data, offline=demo or None
    )
    summary = import_answers(
        settings,
        source,
        mapping,
        communes=tuple(communes or ()),
        demo=demo,
        all_or_nothing=all_or_nothing,
    )
    if summary.automatic is not None:
        _err.print(
            shown(
                _(
                    "Sans --mapping : export {tool} reconnu, {matched} colonne(s) associée(s) "
                    "aux questions, {ignored} ignorée(s) ({columns}). Pour relire la "
                    "correspondance : tierslieux survey mapping {path}",
                    tool=summary.automatic.tool_name,
                    matched=summary.automatic.matched,
                    ignored=len(summary.automatic.ignored),
                    columns=", ".join(c[:30] for c in summary.automatic.ignored[:8]) or "—",
                    path=summary.path,
                )
            ),
            highlight=False,
        )
    for issue in summary.warnings:
        _err.print(shown(_issue(issue)), highlight=False)
    if summary.rejected:
        _err.print(f"[bold yellow]{escape(_('Lignes rejetées :'))}[/]", highlight=False)
        for issue in summary.rejected:
            _err.print(shown(_issue(issue)), highlight=False)
    _print(
        _(
            "{lines} réponse(s) lue(s) dans {path} : {added} enregistrée(s), {rejected} "
            "ligne(s) rejetée(s).",
            lines=summary.lines,
            path=summary.path,
            added=summary.added,
            rejected=len({i.line for i in summary.rejected}),
        )
    )
    if summary.erased:
        _print(
            _(
                "{n} réponse(s) de répondant(s) effacé(s) à leur demande (RGPD) non réimportée(s).",
                n=summary.erased,
            )
        )
    if summary.expired:
        _print(
            _(
                "{n} réponse(s) effacée(s) à la fin de la durée de conservation (RGPD) non "
                "réimportée(s).",
                n=summary.expired,
            )
        )


@survey_app.command("export")
@guarded
def export(
    out: Annotated[Path, typer.Option("--out", help="Fichier CSV à écrire (UTF-8, « ; »).")],
    identifiers: Annotated[
        bool,
        typer.Option(
            "--avec-identifiants",
            help="Garder les identifiants des répondants (sinon numéros R0001…).",
        ),
    ] = False,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Exporter les réponses (pseudonymisées par défaut)."""
    summary = export_answers(
        settings_from(database_url=database_url, lang=lang), out, identifiers=identifiers
    )
    _print(_("{n} répondant(s) écrit(s) dans {path}.", n=summary.respondents, path=summary.path))


@survey_app.command("analyse")
@guarded
def analyse(
    out: Annotated[Path, typer.Option("--out", help="Dossier de sortie (créé si besoin).")],
    territory: Annotated[
        str,
        typer.Option("--territory", help="dep:05, epci:<SIREN>, region:93, communes:<fichier>."),
    ] = "",
    communes: CommunesOpt = None,
    data: DataOpt = None,
    travel_times: Annotated[
        Path | None, typer.Option("--travel-times", help="Matrice CSV origin,destination,minutes.")
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option("--minutes", help="Distance maximale entre membres d'un groupe (défaut 20)."),
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(
            "--sites",
            help="sites.csv de « tierslieux sites » : part des répondants à plus de "
            "--minutes du site le plus proche.",
        ),
    ] = None,
    min_group_size: Annotated[
        int,
        typer.Option(
            "--min-group-size",
            help="Membres qu'il faut à un groupe pour être une communauté-base candidate ; "
            f"en dessous, c'est une piste (défaut {MIN_GROUP_SIZE} : « une ou quelques "
            "personnes » selon l'étude, lu comme au moins trois).",
        ),
    ] = MIN_GROUP_SIZE,
    demo: DemoOpt = False,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Résultats par question, commentaires, cartes, typologie et communautés-base candidates
    des répondants d'un territoire.
    """
    if not territory and not demo:
        raise TierslieuxError(_("Indiquez --territory (par exemple dep:05) ou --demo."))
    settings = settings_from(
        database_url=database_url, lang=lang, data_dir=data, offline=demo or None
    )
    request = SurveyAnalysisRequest(
        territory=territory,
        communes=tuple(communes or ()),
        travel_times=travel_times,
        minutes=minutes,
        demo=demo,
        sites=sites,
        min_group_size=min_group_size,
    )
    analysis = analyse_survey(settings, request)
    files = write_survey(analysis, out)
    for note in analysis.notes:
        _err.print(f"[yellow]{shown(note)}[/]", highlight=False)
    candidates = (
        int((analysis.groups["statut"] == GROUP_CANDIDATE).sum()) if len(analysis.groups) else 0
    )
    _print(
        _(
            "{territory} : {n} répondant(s), {g} communauté(s)-base candidate(s) ({m} membres "
            "ou plus) et {p} piste(s). Fichiers écrits dans {out} : {files}.",
            territory=analysis.territory_label,
            n=len(analysis.respondents),
            g=candidates,
            m=analysis.min_group_size,
            p=len(analysis.groups) - candidates,
            out=out,
            files=", ".join(f.name for f in files),
        )
    )


@survey_app.command("forget")
@guarded
def forget(
    respondent: Annotated[
        str, typer.Argument(help="Identifiant du répondant (export --avec-identifiants).")
    ],
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Effacer un répondant et toutes ses réponses (droit à l'effacement RGPD)."""
    deleted = forget_respondent(settings_from(database_url=database_url, lang=lang), respondent)
    _print(_("{n} répondant(s) effacé(s) avec toutes ses réponses.", n=deleted))


@survey_app.command("purge")
@guarded
def purge(
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Effacer les réponses dont la durée de conservation est dépassée (RGPD).

    Les réponses importées suivent la durée des réglages (jours) ; celles d'une
    campagne de collection, la durée annoncée par la campagne (mois) : une ligne par
    campagne.
    """
    settings = settings_from(database_url=database_url, lang=lang)
    deleted = purge_expired(settings)
    _print(
        _(
            "{n} répondant(s) importé(s) effacé(s) (consentement de plus de {days} jours).",
            n=deleted,
            days=settings.survey_retention_days,
        )
    )
    for done in purge_campaigns(settings):
        deleted += done.deleted
        _print(
            _(
                "Campagne {id} « {title} » (projet {project}) : {n} réponse(s) effacée(s), "
                "consentement avant le {day} (conservation {months} mois).",
                id=done.campaign.id,
                title=done.campaign.title,
                project=done.campaign.project_id,
                n=done.deleted,
                day=done.before.strftime("%d/%m/%Y"),
                months=done.campaign.retention_months,
            )
        )
    if deleted:
        _print(
            _(
                "Une empreinte salée de chaque soumission effacée est gardée : réimporter le "
                "même export ne les fera pas revenir."
            )
        )
