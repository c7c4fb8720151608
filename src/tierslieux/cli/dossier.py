"""Command ``tierslieux dossier``: the territory dossier (registered by cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 (an option's type, read by typer)
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierslieux.cli.common import (
    ActeursOpt,
    CacheOpt,
    CommunesOpt,
    DataOpt,
    DebugOpt,
    DemoOpt,
    DensiteOpt,
    GaresOpt,
    LangOpt,
    MediationOpt,
    MinutesOpt,
    MobproOpt,
    ObjectiveOpt,
    OfflineOpt,
    OsrmOpt,
    OutOpt,
    PnrOpt,
    RnaOpt,
    SireneEtablissementsOpt,
    SireneUnitesLegalesOpt,
    TerritoryOpt,
    TiersLieuxOpt,
    TimeLimitOpt,
    TravelTimesOpt,
    ZonagesOpt,
    guarded,
    shown,
    siting_settings,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import out_console as _out
from tierslieux.i18n import format_percent
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from tierslieux.model.types import ProgressEvent

__all__ = ["dossier"]


@guarded
def dossier(
    out: OutOpt,
    territory: TerritoryOpt = "",
    count: Annotated[
        int, typer.Option("--count", help="Nombre de sites d'expérimentation (défaut 3).")
    ] = 3,
    objective: ObjectiveOpt = "couverture",
    minutes: MinutesOpt = None,
    data: DataOpt = None,
    communes: CommunesOpt = None,
    zonages: ZonagesOpt = None,
    densite: DensiteOpt = None,
    mobpro: MobproOpt = None,
    travel_times: TravelTimesOpt = None,
    osrm_url: OsrmOpt = None,
    sirene_etablissements: SireneEtablissementsOpt = None,
    sirene_unites_legales: SireneUnitesLegalesOpt = None,
    rna: RnaOpt = None,
    tiers_lieux: TiersLieuxOpt = None,
    gares: GaresOpt = None,
    mediation: MediationOpt = None,
    acteurs: ActeursOpt = None,
    pnr: PnrOpt = None,
    structures: Annotated[
        Path | None,
        typer.Option(
            "--structures",
            help="structures.csv écrit par « tierslieux communities » (peut-être corrigé à "
            "la main) : l'annuaire du dossier, au lieu de relire Sirene, le RNA et les lieux.",
        ),
    ] = None,
    no_survey: Annotated[
        bool,
        typer.Option("--sans-questionnaire", help="Ne pas analyser les réponses au questionnaire."),
    ] = False,
    no_sites: Annotated[
        bool, typer.Option("--sans-sites", help="Ne pas choisir de sites d'expérimentation.")
    ] = False,
    time_limit: TimeLimitOpt = 60.0,
    basemap_url: Annotated[
        str,
        typer.Option(
            "--basemap-url",
            envvar="TIERSLIEUX_BASEMAP_URL",
            help="Fond de carte facultatif sous les cartes du PDF : modèle d'adresse de "
            "tuiles https avec {z}, {x} et {y} (OpenStreetMap, IGN). Aucun par défaut ; "
            "sans réseau, les cartes sont dessinées sans fond.",
        ),
    ] = "",
    basemap_attribution: Annotated[
        str,
        typer.Option(
            "--basemap-attribution",
            envvar="TIERSLIEUX_BASEMAP_ATTRIBUTION",
            help="Crédit du fond de carte (par défaut celui d'OpenStreetMap ou de l'IGN).",
        ),
    ] = "",
    demo: DemoOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001  (read by guarded)
) -> None:
    """Dossier du territoire : PDF à imprimer, classeur Excel, GeoPackage QGIS, uMap."""
    from tierslieux.basemap import basemap_credit, check_basemap_url  # noqa: PLC0415
    from tierslieux.pipeline.dossier import DossierRequest  # noqa: PLC0415
    from tierslieux.pipeline.jobs import run_cancellable  # noqa: PLC0415  (Ctrl-C in HiGHS)
    from tierslieux.reports.dossier import Basemap, make_dossier  # noqa: PLC0415

    settings = siting_settings(
        territory=territory,
        demo=demo,
        count=count,
        minutes=minutes,
        time_limit=time_limit,
        data=data,
        cache_dir=cache_dir,
        offline=offline,
        osrm_url=osrm_url,
        lang=lang,
    )
    tiles = check_basemap_url(basemap_url)
    if tiles and settings.offline:  # offline: no download at all, not even tiles
        _err.print(
            f"[yellow]{escape(_('Hors ligne : fond de carte ignoré, cartes sans fond.'))}[/]",
            highlight=False,
        )
        tiles = ""
    basemap = Basemap(tiles, basemap_credit(tiles, basemap_attribution)) if tiles else None
    request = DossierRequest(
        territory=territory or "france",
        count=count,
        minutes=minutes,
        objective=objective,
        communes=tuple(communes or ()),
        zonages=zonages,
        densite=densite,
        mobpro=mobpro,
        travel_times=travel_times,
        sirene_etablissements=sirene_etablissements,
        sirene_unites_legales=sirene_unites_legales,
        rna=rna,
        tiers_lieux=tiers_lieux,
        gares=gares,
        mediation=mediation,
        acteurs=acteurs,
        pnr=pnr,
        structures=structures,
        survey=not no_survey,
        sites=not no_sites,
        time_limit=time_limit,
        demo=demo,
    )
    with _err.status(_("Préparation du dossier…")) as status:

        def show(event: ProgressEvent) -> None:
            done = f" ({format_percent(event.fraction)})" if event.fraction is not None else ""
            status.update(escape(event.message + done))

        written = run_cancellable(
            make_dossier, settings, request, out, progress=show, basemap=basemap
        )
    result = written.dossier
    for note in (*result.diagnosis.notes[:2], *result.notes):
        _err.print(f"[yellow]{shown(note)}[/]", highlight=False)
    _out.print(
        escape(
            _(
                "{territory} : dossier écrit dans {out} : {files}.",
                territory=result.territory_name,
                out=out,
                files=", ".join(f.name for f in written.files),
            )
        ),
        highlight=False,
    )
