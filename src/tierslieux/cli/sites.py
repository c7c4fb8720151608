"""Command ``tierslieux sites``: choose experimentation sites (registered by cli.py)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003  (Typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierslieux.cli.common import (
    CacheOpt,
    CommunesOpt,
    DataOpt,
    DebugOpt,
    DemoOpt,
    DensiteOpt,
    GroupsOpt,
    LangOpt,
    MinMembersOpt,
    MinStructuresOpt,
    MobproOpt,
    NoNeighboursOpt,
    ObjectiveOpt,
    OfflineOpt,
    OsrmOpt,
    OutOpt,
    TerritoryOpt,
    TimeLimitOpt,
    TravelTimesOpt,
    ZonagesOpt,
    guarded,
    shown,
    siting_settings,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import out_console as _out
from tierslieux.i18n import format_figure, format_number
from tierslieux.i18n import gettext as _
from tierslieux.model.siting import format_gap
from tierslieux.model.structures import DEFAULT_MIN_MEMBERS, DEFAULT_MIN_STRUCTURES

if TYPE_CHECKING:
    from tierslieux.model.types import ProgressEvent
    from tierslieux.pipeline.sites import Co2Estimate

__all__ = ["sites"]


def _progress_text(event: ProgressEvent) -> str:
    """One status line: phase message, step, elapsed seconds and current gap."""
    text = event.message
    if event.step is not None and event.total is not None:
        text += f" ({event.step}/{event.total})"
    text += " — " + _("{s:.0f} s", s=event.elapsed)
    if event.gap is not None:
        text += " — " + _("écart prouvé {gap}", gap=format_gap(event.gap))
    return text


def _print_assumptions(co2: Co2Estimate) -> None:
    """The take-up assumptions and the range, one line each (standard error)."""
    _err.print(escape(_("Hypothèses du CO₂ (bas / central / haut) :")), highlight=False)
    for row in co2.assumptions.to_dict("records"):
        low, central, high = (format_figure(float(row[c])) for c in ("bas", "central", "haut"))
        _err.print(
            escape(
                _(
                    "  - {parameter} : {low} / {central} / {high} — {source}",
                    parameter=row["parametre"],
                    low=low,
                    central=central,
                    high=high,
                    source=row["source"],
                )
            ),
            highlight=False,
        )


@guarded
def sites(
    out: OutOpt,
    count: Annotated[int, typer.Option("--count", help="Nombre de sites à choisir.")],
    territory: TerritoryOpt = "",
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            help="Un site couvre les communes à moins de N minutes "
            "(défaut : TIERSLIEUX_CATCHMENT_MINUTES, 20).",
        ),
    ] = None,
    objective: ObjectiveOpt = "couverture",
    data: DataOpt = None,
    communes: CommunesOpt = None,
    mobpro: MobproOpt = None,
    travel_times: TravelTimesOpt = None,
    osrm_url: OsrmOpt = None,
    structures: Annotated[
        Path | None,
        typer.Option("--structures", help="structures.csv écrit par « tierslieux communities »."),
    ] = None,
    groups: GroupsOpt = None,
    min_members: MinMembersOpt = DEFAULT_MIN_MEMBERS,
    demand: Annotated[
        Path | None, typer.Option("--demand", help="Demande CSV code,demand[,km] à utiliser.")
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidats",
            help="Lieux candidats CSV (nom, latitude, longitude[, code_commune, identifiant]) "
            "au lieu des communes.",
        ),
    ] = None,
    respondents: Annotated[
        Path | None,
        typer.Option(
            "--repondants",
            help="respondents.csv de « tierslieux survey analyse » : chaque répondant "
            "ajoute 1 à la demande de sa commune.",
        ),
    ] = None,
    min_structures: MinStructuresOpt = DEFAULT_MIN_STRUCTURES,
    distinct_themes: Annotated[
        bool,
        typer.Option(
            "--themes-differents/--themes-libres",
            help="Thèmes de communauté-base différents d'un site à l'autre "
            "(--structures, --groups).",
        ),
    ] = True,
    tiers_lieux: Annotated[
        Path | None,
        typer.Option(
            "--tiers-lieux",
            help="Tiers-lieux existants (CGET_TiersLieux_2019.csv ; cherché dans --data).",
        ),
    ] = None,
    tiers_lieux_mode: Annotated[
        str,
        typer.Option(
            "--tiers-lieux-mode",
            help="garder (sites imposés, comptés dans --count) ou exclure (pas de site près).",
        ),
    ] = "garder",
    exclusion_minutes: Annotated[
        float | None,
        typer.Option(
            "--exclusion-minutes",
            help="Mode exclure : pas de site à moins de N minutes (défaut : --minutes).",
        ),
    ] = None,
    min_per_epci: Annotated[
        int, typer.Option("--min-par-epci", help="Sites exigés au minimum par intercommunalité.")
    ] = 0,
    gain_minimal: Annotated[
        float,
        typer.Option(
            "--gain-minimal",
            help="Objectif co2 : minutes gagnées au minimum pour qu'un navetteur utilise un site.",
        ),
    ] = 10.0,
    users_share: Annotated[
        float | None,
        typer.Option(
            "--part-usagers",
            help="Objectif co2 : part des navetteurs éligibles qui viendraient (0-1 ; "
            "défaut : fourchette publiée citée).",
        ),
    ] = None,
    days_per_week: Annotated[
        float | None,
        typer.Option(
            "--jours-par-semaine",
            help="Objectif co2 : jours par semaine au tiers-lieu (0-5 ; défaut : "
            "questionnaire --repondants, sinon fourchette publiée citée).",
        ),
    ] = None,
    working_days: Annotated[
        float | None,
        typer.Option(
            "--jours-ouvres",
            help="Objectif co2 : jours ouvrés par an (défaut 218, Code du travail).",
        ),
    ] = None,
    zonages: ZonagesOpt = None,
    densite: DensiteOpt = None,
    rural: Annotated[
        str,
        typer.Option(
            "--rural",
            help="non, candidats (sites dans des communes rurales seulement) ou "
            "candidats-et-demande (et seule la demande des communes rurales compte).",
        ),
    ] = "non",
    time_limit: TimeLimitOpt = 60.0,
    demo: DemoOpt = False,
    no_neighbours: NoNeighboursOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001  (read by guarded)
) -> None:
    """Choisir des sites d'expérimentation (couverture maximale, communautés-base)."""
    from tierslieux.pipeline.jobs import run_cancellable  # noqa: PLC0415  (Ctrl-C in HiGHS)
    from tierslieux.pipeline.sites import SitesRequest, run_sites  # noqa: PLC0415
    from tierslieux.reports.sites import objective_split, write_sites  # noqa: PLC0415

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
    request = SitesRequest(
        territory=territory or "france",
        count=count,
        minutes=minutes,
        objective=objective,
        communes=tuple(communes or ()),
        mobpro=mobpro,
        travel_times=travel_times,
        structures=structures,
        groups=groups,
        demand=demand,
        candidates=candidates,
        respondents=respondents,
        min_structures=min_structures,
        min_members=min_members,
        distinct_themes=distinct_themes,
        time_limit=time_limit,
        demo=demo,
        zonages=zonages,
        tiers_lieux=tiers_lieux,
        tiers_lieux_mode=tiers_lieux_mode,
        gain_minimal=gain_minimal,
        exclusion_minutes=exclusion_minutes,
        min_per_epci=min_per_epci,
        densite=densite,
        rural=rural,
        neighbours=not no_neighbours,
        users_share=users_share,
        days_per_week=days_per_week,
        working_days=working_days,
    )
    with _err.status(_("Choix des sites…")) as status:

        def show(event: ProgressEvent) -> None:
            status.update(escape(_progress_text(event)))

        result = run_cancellable(run_sites, settings, request, progress=show)
        status.update(escape(_("Écriture des fichiers…")))
        files = write_sites(result, out)
    for note in result.notes:
        _err.print(f"[yellow]{shown(note)}[/]", highlight=False)
    if result.co2 is not None:
        _print_assumptions(result.co2)
    res = result.result
    if result.co2 is not None:
        _out.print(
            _(
                "{territory} : {n} site(s) ({codes}), {central} t CO₂e évitées par an "
                "(fourchette {low} à {high} t ; en moyenne {day} kg par jour ouvré), "
                "écart prouvé {gap}. {reason} Fichiers écrits dans {out} : {files}.",
                territory=result.territory_label,
                n=len(res.sites),
                codes=", ".join(result.sites["code"]),
                central=format_number(result.co2.tonnes.central, 1),
                low=format_number(result.co2.tonnes.low, 1),
                high=format_number(result.co2.tonnes.high, 1),
                day=format_number(result.co2.kg_per_day),
                gap=format_gap(res.gap),
                reason=res.reason,
                out=out,
                files=", ".join(f.name for f in files),
            ),
            highlight=False,
        )
        return
    _out.print(
        _(
            "{territory} : {n} site(s) ({codes}), {value} {unit}, écart prouvé "
            "{gap}.{split} {reason} Fichiers écrits dans {out} : {files}.",
            territory=result.territory_label,
            n=len(res.sites),
            codes=", ".join(result.sites["code"]),
            value=format_number(res.objective),
            unit=result.unit,
            gap=format_gap(res.gap),
            split=f" {objective_split(result)}" if objective_split(result) else "",
            reason=res.reason,
            out=out,
            files=", ".join(f.name for f in files),
        ),
        highlight=False,
    )
