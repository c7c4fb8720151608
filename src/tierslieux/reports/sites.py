"""Files of the site selection: CSV tables and a self-contained HTML page with a map."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierslieux.i18n import format_figure, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.reports._write import atomic_output_dir
from tierslieux.reports.maps import Marker, choropleth_svg

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline.sites import SitesResult

__all__ = ["write_sites"]

_STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem}"
    ".carte{width:100%;height:auto}.legende{list-style:none;display:flex;gap:1rem}"
    ".legende span{display:inline-block;width:1rem;height:1rem;margin-right:.3rem}"
    ".note{background:#fff3cd;padding:.4rem}.defile{overflow-x:auto}"
)


#: Columns holding shares (0.04 = 4 %), shown as percentages.
_SHARES = frozenset({"perte_pct", "part_couverte", "ecart"})


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    shares = [c in _SHARES for c in frame.columns]
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_cell(v, share=share))}</td>"
            for v, share in zip(row, shares, strict=True)
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f'<div class="defile"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(value: object, *, share: bool = False) -> str:
    if value is None or value is pd.NA or value != value:  # noqa: PLR0124 (NaN)
        return ""
    if isinstance(value, bool | np.bool_):
        return _("oui") if value else _("non")
    if isinstance(value, int | float | np.integer | np.floating) and share:
        return format_percent(float(value), 1)
    if isinstance(value, float | np.floating):
        return format_figure(float(value))
    return str(value)


def _page(result: SitesResult) -> str:
    res = result.result
    frame = result.communes.assign(
        carte=result.communes["demande"].where(result.communes["couvert_par"] != "")
    )
    sites = result.sites
    svg = choropleth_svg(
        frame,
        "carte",
        result.geometries,
        label=_("Demande couverte par commune"),
        no_data_label=_("non couverte"),
        markers=[
            Marker(
                lat,
                lon,
                str(rank),
                _("Site {rank} : {name} ({code})", rank=rank, name=name, code=code),
            )
            for rank, code, name, lat, lon in zip(
                sites["rang"],
                sites["code"],
                sites["nom"],
                sites["latitude"].astype(float),
                sites["longitude"].astype(float),
                strict=True,
            )
        ],
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in result.notes)
    co2 = ""
    if result.co2 is not None:
        tonnes = result.co2.tonnes
        co2 = (
            "<p><strong>"
            + html.escape(
                _(
                    "CO₂ évité : {central} t CO₂e par an (fourchette {low} à {high} t), soit "
                    "en moyenne {day} kg par jour ouvré.",
                    central=format_number(tonnes.central, 1),
                    low=format_number(tonnes.low, 1),
                    high=format_number(tonnes.high, 1),
                    day=format_number(result.co2.kg_per_day),
                )
            )
            + "</strong></p>"
            + f"<h2>{html.escape(_('Hypothèses du CO₂ (bas / central / haut)'))}</h2>"
            + _table(result.co2.assumptions)
        )
    summary = _(
        "{n} site(s), bassin de {minutes} minutes : {value} {unit} sur {total} possibles "
        "({share}). Borne prouvée {bound} (écart {gap}). Solveur : {solver} — {reason}",
        n=len(res.sites),
        minutes=format_number(result.minutes),
        value=format_number(res.objective),
        unit=result.unit,
        total=format_number(res.total_demand),
        share=format_percent(res.objective / res.total_demand if res.total_demand else 0.0),
        bound=format_number(res.bound),
        gap=format_percent(res.gap, 2),
        solver=res.solver,
        reason=res.reason,
    )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(_('Sites d’expérimentation'))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(_('Sites d’expérimentation'))} — "
        f"{html.escape(result.territory_label)}</h1>{notes}"
        f"<p>{html.escape(summary)}</p>{co2}"
        f"<h2>{html.escape(_('Sites retenus'))}</h2>{_table(result.sites)}"
        f"<h2>{html.escape(_('Carte'))}</h2>{svg}"
        f"<h2>{html.escape(_('Alternatives : sans chacun des sites'))}</h2>"
        f"{_table(result.alternatives)}"
        f"<h2>{html.escape(_('Sensibilité'))}</h2>{_table(result.sensitivity)}"
        f"<h2>{html.escape(_('Comment lire ce résultat'))}</h2>{_method(result)}"
        "</body></html>"
    )


def _method(result: SitesResult) -> str:
    """Plain-French reading guide for elected officials: what was optimised and how."""
    objective = (
        _(
            "La valeur d'un site est le CO₂ des trajets en voiture évités en une année, en "
            "tonnes : les kilomètres que les navetteurs éligibles ne feraient plus en "
            "travaillant au site plutôt qu'à leur lieu de travail, multipliés par la part "
            "de ceux qui viendraient vraiment, les jours par semaine où ils viendraient et "
            "les jours ouvrés de l'année (estimation centrale ; fourchette basse et haute "
            "dans le tableau des hypothèses, avec leurs sources). Ces hypothèses ne changent "
            "pas le choix des sites, seulement les tonnes annoncées."
        )
        if result.objective == "co2"
        else _(
            "La valeur d'un site est le nombre d'usagers potentiels (estimés depuis le "
            "recensement, ou fournis) qui habitent à moins de {m} minutes de lui ; une "
            "commune couverte par deux sites ne compte qu'une fois.",
            m=format_number(result.minutes),
        )
    )
    paragraphs = [
        objective,
        _(
            "Les sites sont choisis ensemble, pas un par un : le modèle cherche la "
            "combinaison de {k} sites qui maximise la valeur totale, sous les contraintes "
            "demandées (une communauté-base dans le bassin de chaque site, des thèmes "
            "différents d'un site à l'autre, les tiers-lieux existants gardés ou tenus à "
            "distance, un minimum par intercommunalité). « Écart prouvé » dit de combien, "
            "au plus, une autre combinaison pourrait faire mieux : 0 % signifie qu'aucune "
            "ne fait mieux.",
            k=result.count,
        ),
        _(
            "« Gain marginal » : ce que chaque site ajoute aux sites mieux classés ; « perte "
            "si retiré » : ce que l'on perd en l'enlevant seul. Le tableau des alternatives "
            "répond à « pourquoi ici et pas là ? » : pour chaque site, la meilleure "
            "combinaison sans lui, son remplaçant et ce qu'elle coûte. Le tableau de "
            "sensibilité montre le résultat à 15, 20 et 30 minutes et avec un site de "
            "moins ou de plus."
        ),
    ]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def write_sites(result: SitesResult, out: Path) -> list[Path]:
    """Write ``sites.csv``, ``coverage.csv``, ``alternatives.csv``, ``sensitivity.csv``
    and ``sites.html`` into ``out`` (all or nothing); objective co2: also
    ``hypotheses_co2.csv`` (take-up assumptions, their sources and the range).
    """
    with atomic_output_dir(out) as staging:
        result.sites.to_csv(staging / "sites.csv", index=False, encoding="utf-8")
        result.coverage.to_csv(staging / "coverage.csv", index=False, encoding="utf-8")
        result.alternatives.to_csv(staging / "alternatives.csv", index=False, encoding="utf-8")
        result.sensitivity.to_csv(staging / "sensitivity.csv", index=False, encoding="utf-8")
        if result.co2 is not None:
            result.co2.assumptions.to_csv(
                staging / "hypotheses_co2.csv", index=False, encoding="utf-8"
            )
        (staging / "sites.html").write_text(_page(result), encoding="utf-8")
        names = sorted(p.name for p in staging.iterdir())
    return [out / name for name in names]
