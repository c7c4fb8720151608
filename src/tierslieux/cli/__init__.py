"""Command line of tierslieux (``tierslieux --help``).

Every command builds one :class:`~tierslieux.config.Settings`, calls a use case of
:mod:`tierslieux.pipeline` and writes with :mod:`tierslieux.reports`.  Errors caused
by the user's input are printed on one line (in French by default) with exit code 1;
no traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierslieux import __version__
from tierslieux.cli import questionnaire as _questionnaire  # noqa: F401 (survey show, questionnaire)
from tierslieux.cli.common import (
    MAX_OPTION_MINUTES,
    ActeursOpt,
    CacheOpt,
    CommunesOpt,
    DataOpt,
    DebugOpt,
    DefinitionOpt,
    DemoOpt,
    DensiteOpt,
    GaresOpt,
    GroupsOpt,
    LangOpt,
    MediationOpt,
    MinMembersOpt,
    MinStructuresOpt,
    MinutesOpt,
    MobproOpt,
    NoNeighboursOpt,
    OfflineOpt,
    OsrmOpt,
    OutOpt,
    PnrOpt,
    RnaOpt,
    SireneEtablissementsOpt,
    SireneUnitesLegalesOpt,
    TerritoryOpt,
    TiersLieuxOpt,
    TravelTimesOpt,
    ZonagesOpt,
    accept_language,
    check_language_option,
    check_positive_option,
    language_from,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import guarded as _guarded
from tierslieux.cli.common import out_console as _out
from tierslieux.cli.common import settings_from as _settings
from tierslieux.cli.common import shown as _shown
from tierslieux.cli.contacts import contacts_app
from tierslieux.cli.db import db_app
from tierslieux.cli.dossier import dossier
from tierslieux.cli.framework import LocalisedGroup, localise
from tierslieux.cli.sites import sites
from tierslieux.cli.survey import survey_app
from tierslieux.cli.web import users_app, web
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import format_datetime, format_number, use_language
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import DEFAULT_MIN_MEMBERS, DEFAULT_MIN_STRUCTURES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from typer._click.core import Command

    from tierslieux.pipeline.workspace import Workspace

app = typer.Typer(
    cls=LocalisedGroup,
    name="tierslieux",
    help="Diagnostic territorial pour lancer des tiers-lieux ruraux.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
synth_app = typer.Typer(
    help="Données synthétiques (étiquetées comme telles).", no_args_is_help=True
)
synth_app.callback()(accept_language)
app.add_typer(synth_app, name="synth")


def _version(value: bool) -> None:
    if value:
        _out.print(f"tierslieux {__version__}")
        raise typer.Exit


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Version et sortie."),
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Diagnostic territorial pour lancer des tiers-lieux ruraux."""
    if lang:  # ``tierslieux --lang en diagnose``: the language of the whole run
        check_language_option(lang)
        ctx.with_resource(use_language(lang))


@app.command()
@_guarded
def diagnose(
    out: OutOpt,
    territory: Annotated[
        str,
        typer.Option(
            "--territory",
            help="region:93, dep:05, epci:<SIREN>, bv:<code>, communes:<fichier>, france.",
        ),
    ] = "",
    data: DataOpt = None,
    communes: CommunesOpt = None,
    zonages: ZonagesOpt = None,
    densite: DensiteOpt = None,
    mobpro: MobproOpt = None,
    travel_times: TravelTimesOpt = None,
    osrm_url: OsrmOpt = None,
    minutes: Annotated[
        float | None, typer.Option("--minutes", help="Seuil du bassin de vie (défaut 20).")
    ] = None,
    rural: Annotated[
        bool,
        typer.Option(
            "--rural",
            help="Tableaux du rapport limités aux communes rurales (les CSV gardent tout).",
        ),
    ] = False,
    long_minutes: Annotated[
        float | None, typer.Option("--trajet-long", help="Seuil du trajet long (défaut 30).")
    ] = None,
    teleworkable: Annotated[
        Path | None,
        typer.Option(
            "--teletravail", help="Parts télétravaillables par CS1 (CSV cs1,part,source)."
        ),
    ] = None,
    demo: DemoOpt = False,
    definition: DefinitionOpt = "centre",
    no_neighbours: NoNeighboursOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Compter les usagers potentiels d'un tiers-lieu par commune et par bassin."""
    from tierslieux.pipeline import DiagnoseRequest, run_diagnosis  # noqa: PLC0415
    from tierslieux.reports.diagnosis import write_diagnosis  # noqa: PLC0415

    if not territory and not demo:
        raise TierslieuxError(_("Indiquez --territory (par exemple dep:05) ou --demo."))
    check_positive_option(minutes, "--minutes", maximum=MAX_OPTION_MINUTES)
    check_positive_option(long_minutes, "--trajet-long", maximum=MAX_OPTION_MINUTES)
    settings = _settings(
        data_dir=data, cache_dir=cache_dir, offline=offline or demo, osrm_url=osrm_url, lang=lang
    )
    request = DiagnoseRequest(
        territory=territory or "france",
        communes=tuple(communes or ()),
        zonages=zonages,
        mobpro=mobpro,
        travel_times=travel_times,
        teleworkable=teleworkable,
        minutes=minutes,
        long_commute_minutes=long_minutes,
        demo=demo,
        densite=densite,
        rural=rural,
        definition=definition,
        neighbours=not no_neighbours,
    )
    with _err.status(_("Calcul du diagnostic…")):
        diagnosis = run_diagnosis(settings, request)
        files = write_diagnosis(diagnosis, out)
    for note in diagnosis.notes:
        _err.print(f"[bold yellow]{_shown(note)}[/]", highlight=False)
    _out.print(
        _(
            "{territory} : {n} communes, {potential} usagers potentiels estimés. Fichiers écrits "
            "dans {out} : {files}.",
            territory=diagnosis.territory_label,
            n=len(diagnosis.communes),
            potential=(
                format_number(diagnosis.communes["potentiel"].sum())
                if diagnosis.mobpro_kind != "flux"
                else "—"
            ),
            out=out,
            files=", ".join(f.name for f in files),
        ),
        highlight=False,
    )


@synth_app.command("mobpro")
@_guarded
def synth_mobpro(
    communes: Annotated[
        list[Path],
        typer.Option(
            "--communes", help="Fichier(s) des communes (avec population active si possible)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Fichier FD_MOBPRO à écrire.")],
    territory: Annotated[
        str | None, typer.Option("--territory", help="Limiter aux communes d'un territoire.")
    ] = None,
    rows: Annotated[int | None, typer.Option("--rows", help="Nombre de lignes visé.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Graine aléatoire.")] = 0,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Écrire un fichier MOBPRO SYNTHÉTIQUE au format officiel FD_MOBPRO."""
    from tierslieux.pipeline import synthesise_mobpro_for  # noqa: PLC0415

    settings = _settings(lang=lang, offline=True)
    path = synthesise_mobpro_for(
        settings, tuple(communes), out, territory=territory, seed=seed, rows=rows
    )
    _out.print(
        _(
            "Fichier SYNTHÉTIQUE écrit : {path} (et sa description {sidecar}).",
            path=path,
            sidecar=path.name + ".synthetic.json",
        ),
        highlight=False,
    )


@app.command()
@_guarded
def fetch(
    dataset: Annotated[
        list[str] | None, typer.Argument(help="Identifiants du catalogue (vide : liste).")
    ] = None,
    cache_dir: CacheOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Télécharger des jeux de données officiels dans le cache (ou lister le catalogue)."""
    from tierslieux.pipeline import fetch_datasets, list_datasets  # noqa: PLC0415

    settings = _settings(cache_dir=cache_dir, lang=lang)
    if not dataset:
        for entry in list_datasets(settings):
            _out.print(f"[bold]{entry.id}[/]  {entry.vintage}  {entry.url}", highlight=False)
        return
    for path in fetch_datasets(settings, dataset):
        _out.print(str(path), highlight=False)


@app.command()
@_guarded
def communities(
    out: OutOpt,
    territory: TerritoryOpt,
    data: DataOpt = None,
    communes: CommunesOpt = None,
    zonages: ZonagesOpt = None,
    travel_times: TravelTimesOpt = None,
    osrm_url: OsrmOpt = None,
    minutes: MinutesOpt = None,
    sirene_etablissements: SireneEtablissementsOpt = None,
    sirene_unites_legales: SireneUnitesLegalesOpt = None,
    rna: RnaOpt = None,
    tiers_lieux: TiersLieuxOpt = None,
    gares: GaresOpt = None,
    mediation: MediationOpt = None,
    acteurs: ActeursOpt = None,
    pnr: PnrOpt = None,
    rules: Annotated[
        Path | None, typer.Option("--regles", help="Règles de classement supplémentaires (CSV).")
    ] = None,
    reseaux: Annotated[
        Path | None,
        typer.Option(
            "--reseaux", help="Membres connus de réseaux (CAE…) : CSV reseau, siren, nom."
        ),
    ] = None,
    groups: GroupsOpt = None,
    min_structures: MinStructuresOpt = DEFAULT_MIN_STRUCTURES,
    min_members: MinMembersOpt = DEFAULT_MIN_MEMBERS,
    definition: DefinitionOpt = "centre",
    no_neighbours: NoNeighboursOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Annuaire des structures des quatre étapes et ouverture des communautés-base."""
    from tierslieux.pipeline import CommunitiesRequest, run_communities  # noqa: PLC0415
    from tierslieux.reports.communities import write_communities  # noqa: PLC0415

    check_positive_option(minutes, "--minutes", maximum=MAX_OPTION_MINUTES)
    settings = _settings(
        data_dir=data, cache_dir=cache_dir, offline=offline, osrm_url=osrm_url, lang=lang
    )
    request = CommunitiesRequest(
        territory=territory,
        communes=tuple(communes or ()),
        zonages=zonages,
        travel_times=travel_times,
        minutes=minutes,
        sirene_etablissements=sirene_etablissements,
        sirene_unites_legales=sirene_unites_legales,
        rna=rna,
        tiers_lieux=tiers_lieux,
        gares=gares,
        mediation=mediation,
        acteurs=acteurs,
        pnr=pnr,
        rules=rules,
        reseaux=reseaux,
        groups=groups,
        min_structures=min_structures,
        min_members=min_members,
        definition=definition,
        neighbours=not no_neighbours,
    )
    with _err.status(_("Recherche des structures…")):
        result = run_communities(settings, request)
        files = write_communities(result, out)
    for note in result.notes:
        _err.print(f"[yellow]{_shown(note)}[/]", highlight=False)
    counts = result.structures["categorie"].value_counts().to_dict()
    _out.print(
        _(
            "{territory} : {n} structures ({detail}) ; {b} commune(s) sur {c} avec une "
            "communauté-base à portée. Fichiers écrits dans {out} : {files}.",
            territory=result.territory_label,
            n=len(result.structures),
            b=int(result.communities["communaute_base"].sum()),
            c=len(result.communities),
            detail=", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "—",
            out=out,
            files=", ".join(f.name for f in files),
        ),
        highlight=False,
    )


app.add_typer(contacts_app, name="contacts")


app.command("sites")(sites)
app.command("dossier")(dossier)

app.add_typer(survey_app, name="survey")
app.add_typer(db_app, name="db")
app.command("web")(web)
app.add_typer(users_app, name="users")

data_app = typer.Typer(
    help="Espace de travail analytique : tables Parquet construites une fois.",
    no_args_is_help=True,
)
data_app.callback()(accept_language)
app.add_typer(data_app, name="data")
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", help="Dossier de l'espace de travail (défaut : <cache>/workspace)."
    ),
]


@data_app.command("build")
@_guarded
def data_build(
    data: DataOpt = None,
    workspace: WorkspaceOpt = None,
    communes: CommunesOpt = None,
    zonages: ZonagesOpt = None,
    densite: DensiteOpt = None,
    mobpro: MobproOpt = None,
    demo: DemoOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Construire l'espace de travail (--data, fichiers donnés, catalogue ou --demo)."""
    from tierslieux.pipeline.inputs import InputFiles  # noqa: PLC0415
    from tierslieux.pipeline.workspace import build_workspace, default_workspace  # noqa: PLC0415

    settings = _settings(data_dir=data, cache_dir=cache_dir, offline=offline or demo, lang=lang)
    files = InputFiles(
        communes=tuple(communes or ()), zonages=zonages, mobpro=mobpro, densite=densite, demo=demo
    )
    folder = workspace or default_workspace(settings)
    with _err.status(_("Construction de l'espace de travail…")):
        built = build_workspace(settings, folder, files)
    if built.mobpro is None:
        _err.print(
            _("Aucun fichier MOBPRO : l'espace de travail ne permet pas le diagnostic."),
            style="bold yellow",
            highlight=False,
        )
    _show_workspace(built)


@data_app.command("show")
@_guarded
def data_show(
    workspace: WorkspaceOpt = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Vérifier les sommes de contrôle des tables.")
    ] = False,
    cache_dir: CacheOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Lister les tables d'un espace de travail et leur provenance."""
    from tierslieux.pipeline.workspace import Workspace, default_workspace  # noqa: PLC0415

    settings = _settings(cache_dir=cache_dir, lang=lang)
    _show_workspace(Workspace.open(workspace or default_workspace(settings), verify=verify))


def _moment(text: str) -> str:
    """An ISO moment stored in UTC (``2026-12-02T15:04:05+00:00``) in Paris time."""
    try:
        return format_datetime(datetime.fromisoformat(text))
    except ValueError:  # written by hand or by another tool: shown as it is
        return text


def _show_workspace(workspace: Workspace) -> None:
    _out.print(
        _(
            "Espace de travail {path} (construit le {built}, heure de Paris) :",
            path=workspace.path,
            built=_moment(workspace.built),
        ),
        highlight=False,
    )
    for entry in workspace.entries.values():
        prov = entry.provenance
        _out.print(
            _(
                "{dataset} : {rows} lignes, millésime {vintage}, source {source}{synthetic}",
                dataset=entry.dataset,
                rows=entry.rows,
                vintage=prov.vintage or "—",
                source=prov.location,
                synthetic=_(" (SYNTHÉTIQUE)") if prov.synthetic else "",
            ),
            highlight=False,
        )


def command_for(args: Sequence[str]) -> Command:
    """Return the Click command tree with its help texts in the language ``args`` ask for.

    ``--lang`` is read from ``args`` (or ``TIERSLIEUX_LANG``) before Click parses them,
    so that ``tierslieux diagnose --help --lang en`` is in English (see
    :func:`~tierslieux.cli.common.language_from`).
    """
    with use_language(language_from(args)):
        return localise(typer.main.get_command(app))


def main(args: Sequence[str] | None = None) -> None:
    """Entry point of the ``tierslieux`` command.

    The language (``--lang`` anywhere on the line, else ``TIERSLIEUX_LANG``, else
    French) is known before Click parses the line: help texts and messages follow it.
    """
    argv = list(sys.argv[1:] if args is None else args)
    with use_language(language_from(argv)):
        command_for(argv)(argv, prog_name="tierslieux")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
