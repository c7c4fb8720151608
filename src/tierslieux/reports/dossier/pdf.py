"""``dossier.pdf``: the printable dossier (WeasyPrint, A4, readable in black and white).

:func:`render_dossier_html` returns the HTML page (template ``dossier.html``, which
extends the one ``base.html`` of every page), :func:`render_pdf` the PDF.  Every
figure of the text comes from the dossier's tables (the summary is built from them,
never typed); the SYNTHÉTIQUE / FICTIF banner is a running element repeated at the top
of every page; long tables repeat their header on each page (``thead``) and every
table has a fixed layout at the page's width, wrapping long words rather than
overflowing the page.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.i18n import (
    format_date,
    format_datetime,
    format_figure,
    format_number,
    format_percent,
)
from tierslieux.i18n import gettext as _
from tierslieux.model.catchment import definition_label
from tierslieux.model.indicators import INDICATORS, indicator_labels
from tierslieux.model.reference import CS1_LABELS, INSEE_SMALL_COUNT_CAUTION
from tierslieux.model.siting import format_gap
from tierslieux.model.structures import (
    COMMUNITY_CATEGORIES,
    OPENNESS_LABELS,
    STEP_CATEGORIES,
    category_labels,
)
from tierslieux.reports.dossier.printmap import Layer, PrintMap, Symbol, print_map_svg
from tierslieux.reports.dossier.tables import (
    COUNT_COLUMNS,
    SHARE_COLUMNS,
    licence_text,
    rate_per_thousand,
    readable_sites,
    whole_columns,
)
from tierslieux.reports.labels import (
    CODE_COLUMNS,
    ENGINE_LABELS,
    PARAMETER_LABELS,
    PEOPLE_COLUMNS,
    RATE_COLUMNS,
    column_label,
    readable_frame,
    solver_label,
    source_role_label,
    value_label,
)
from tierslieux.reports.sites import method_paragraphs
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping, Sequence

    from tierslieux.pipeline.dossier import Dossier
    from tierslieux.reports.dossier.basemap import Basemap

__all__ = ["render_dossier_html", "render_pdf"]

#: Rows of the long tables printed (the workbook keeps every row).
_SHOWN = 30
_ENGINES = ENGINE_LABELS
_PARAMETERS = PARAMETER_LABELS
_OPENNESS_FILLS = {
    "ouverte": "#253494",
    "a_elargir": "#41b6c4",
    "fermee": "#c7e9b4",
    "absente": "#ffffff",
}


def _cell(value: object, column: str, whole: frozenset[str] = frozenset()) -> str:  # noqa: PLR0911 (one return per kind)
    """A printed cell; the columns of ``whole`` (counts of people, rates per 1,000) as
    whole numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return ""
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if hasattr(value, "item") and not isinstance(value, str):
        return _cell(value.item(), column, whole)
    if column in CODE_COLUMNS:
        return str(value)
    if isinstance(value, int | float):
        if column in SHARE_COLUMNS:
            return format_percent(float(value), 1)
        if not math.isfinite(float(value)):
            return "—"
        if column in COUNT_COLUMNS or column in whole or float(value).is_integer():
            return format_number(float(value))
        return (
            format_number(float(value)) if abs(float(value)) >= 100 else format_figure(float(value))
        )
    return str(value)


def _table(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    limit: int | None = _SHOWN,
    whole: frozenset[str] = PEOPLE_COLUMNS | RATE_COLUMNS,
) -> dict[str, Any]:
    """A printed table: labelled headers, formatted cells, numeric columns marked
    (those of ``whole`` as whole numbers: :func:`~.tables.whole_columns`)."""
    chosen = [c for c in columns if c in frame.columns]
    shown = frame if limit is None else frame.head(limit)
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and c not in CODE_COLUMNS
        for c in chosen
    ]
    rows = [
        [_cell(v, c, whole) for c, v in zip(chosen, row, strict=True)]
        for row in shown[chosen].itertuples(index=False)
    ]
    # Column widths follow their content (a long « raison » gets the room, a count
    # little), so that a fixed-layout table at the page's width wraps text evenly.
    weights = []
    for index, column in enumerate(chosen):
        lengths = sorted(len(row[index]) for row in rows) or [0]
        typical = lengths[int(len(lengths) * 0.8)] if len(lengths) > 1 else lengths[0]
        if not numeric[index] and lengths[-1] <= 32:  # a short text: a name
            typical = math.ceil(lengths[-1] * 1.25) + 1  # kept on one line
        label = column_label(column)
        # The longest word of the header, up to 16 letters (longer ones are hyphenated).
        header = min(max((len(word) for word in label.split()), default=4), 16)
        # A long header over a short number would wrap into a tall column of syllables:
        # give it about two lines' width.
        spread = min(len(label) // 2, 16) if numeric[index] else 0
        # Bold DejaVu letters are about 1.6 times as wide as the digits of the cells.
        weights.append(
            min(
                max(typical, math.ceil(header * 1.6) + 2, spread, 10 if numeric[index] else 7),
                # A long text (a reason of several sentences) gets the room it needs
                # before its row grows tall.
                60 if numeric[index] else 80,
            )
        )
    total = sum(weights) or 1
    return {
        # Rounded down: widths summing to more than 100 % would widen the table.
        "widths": [math.floor(1000 * w / total) / 10 for w in weights],
        "columns": [
            {"label": column_label(c), "numeric": n} for c, n in zip(chosen, numeric, strict=True)
        ],
        "rows": rows,
        "total": len(frame),
        "shown": len(shown),
    }


def _site_names(
    frame: pd.DataFrame, names: Mapping[str, str], column: str = "sites"
) -> pd.DataFrame:
    """``frame`` with its ``column`` of commune codes (« 00101;00107 ») as names."""
    if column not in frame.columns:
        return frame
    return frame.assign(
        **{
            column: frame[column].map(
                lambda text: (
                    ", ".join(
                        names.get(code.strip(), code.strip())
                        for code in str(text).split(";")
                        if code.strip()
                    )
                    if isinstance(text, str)
                    else text
                )
            )
        }
    )


def _css_string(text: str) -> str:
    """``text`` as a CSS string, safe inside a <style> element (no quote, no tag)."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&\n' else c for c in text)
    return f'"{escaped}"'


def _names(dossier: Dossier) -> dict[str, str]:
    frame = dossier.diagnosis.communes
    return dict(zip(frame["code"].astype(str), frame["nom"].astype(str), strict=True))


def _outlines(dossier: Dossier) -> list[Layer]:
    legends = {
        "dep": _("Département"),
        "epci": _("Intercommunalités (EPCI)"),
        "bv2022": _("Bassins de vie 2022"),
    }
    return [Layer(k, legends[k], v) for k, v in dossier.outlines.items() if k in legends]


def _main_towns(dossier: Dossier, count: int = 5) -> list[str]:
    communes = dossier.diagnosis.communes
    return (
        communes.sort_values("actifs_occupes", ascending=False)["code"]
        .astype(str)
        .head(count)
        .tolist()
    )


def _site_symbols(dossier: Dossier) -> list[Symbol]:
    if dossier.sites is None:
        return []
    sites = dossier.sites.sites
    return [
        Symbol(float(lat), float(lon), "site", str(rank))
        for rank, lat, lon in zip(
            sites["rang"],
            pd.to_numeric(sites["latitude"], errors="coerce"),
            pd.to_numeric(sites["longitude"], errors="coerce"),
            strict=True,
        )
    ]


def _structure_symbols(dossier: Dossier) -> list[Symbol]:
    structures = dossier.communities.structures
    if structures.empty:
        return []
    return [
        Symbol(float(lat), float(lon), str(cat))
        for lat, lon, cat in zip(
            pd.to_numeric(structures["latitude"], errors="coerce"),
            pd.to_numeric(structures["longitude"], errors="coerce"),
            structures["categorie"],
            strict=True,
        )
        if lat == lat and lon == lon  # noqa: PLR0124
    ]


def _maps(dossier: Dossier, basemap: Basemap | None = None) -> dict[str, str]:
    diagnosis = dossier.diagnosis
    communes = diagnosis.communes
    names = _names(dossier)
    rates = rate_per_thousand(communes["potentiel"], communes["actifs_occupes"])
    codes = communes["code"].astype(str).tolist()
    outlines = _outlines(dossier)
    sites = _site_symbols(dossier)
    site_codes = (
        [] if dossier.sites is None else dossier.sites.sites["code_commune"].astype(str).tolist()
    )
    always = list(dict.fromkeys([*site_codes, *_main_towns(dossier)]))
    short = _short_categories()
    present = [
        c
        for c in short
        if c in set(dossier.communities.structures.get("categorie", pd.Series(dtype=str)))
    ]
    maps: dict[str, str] = {}
    maps["potentiel"] = print_map_svg(
        PrintMap(
            title=_("Usagers potentiels pour 1 000 actifs occupés"),
            legend_title=_("Usagers potentiels pour 1 000 actifs occupés"),
            unit=_("par commune de résidence"),
            geometries=diagnosis.geometries,
            names=names,
            values=dict(zip(codes, [None if v != v else float(v) for v in rates], strict=True)),  # noqa: PLR0124
            circles={
                c: float(v) for c, v in zip(codes, communes["potentiel"].fillna(0.0), strict=True)
            },
            circles_title=_("Cercles : nombre d'usagers potentiels (surface proportionnelle)"),
            outlines=outlines,
            always_named=always,
            basemap=basemap,
        )
    )
    community = dossier.communities.communities
    openness = dict(
        zip(community["code"].astype(str), community["ouverture"].astype(str), strict=True)
    )
    maps["communautes"] = print_map_svg(
        PrintMap(
            title=_("Ouverture de la communauté-base du bassin de chaque commune"),
            legend_title=_(
                "Ouverture de la communauté-base du bassin de {m} minutes", m=f"{dossier.minutes:g}"
            ),
            unit="",
            geometries=diagnosis.geometries,
            names=names,
            categories=openness,
            category_styles={k: (_OPENNESS_FILLS[k], _(v)) for k, v in OPENNESS_LABELS.items()},
            outlines=outlines,
            symbols=_structure_symbols(dossier),
            symbol_labels={c: short[c] for c in present},
            sites=sites,
            sites_legend=_("Site d'expérimentation (numéro des tableaux)"),
            always_named=always,
            basemap=basemap,
            offset_named=site_codes,
        )
    )
    if dossier.sites is not None:
        coverage = dossier.sites.coverage
        covered = (
            dict.fromkeys(coverage["code_commune"].astype(str), "couverte")
            if "code_commune" in coverage
            else {}
        )
        maps["sites"] = print_map_svg(
            PrintMap(
                title=_("Sites d'expérimentation et communes couvertes"),
                legend_title=_(
                    "Communes à moins de {m} minutes d'un site", m=f"{dossier.minutes:g}"
                ),
                unit="",
                geometries=diagnosis.geometries,
                names=names,
                categories={c: covered.get(c, "non") for c in codes},
                category_styles={
                    "couverte": ("#7fcdbb", _("couverte par un site")),
                    "non": ("#ffffff", _("non couverte")),
                },
                outlines=outlines,
                symbols=[
                    s
                    for s in _structure_symbols(dossier)
                    if s.category in {"tiers_lieu_existant", "point_appui"}
                ],
                symbol_labels={
                    c: short[c] for c in present if c in {"tiers_lieu_existant", "point_appui"}
                },
                sites=sites,
                sites_legend=_("Site d'expérimentation (numéro des tableaux)"),
                always_named=always,
                basemap=basemap,
                offset_named=site_codes,
            )
        )
    return {k: safe_svg(v) for k, v in maps.items() if v}


def _short_categories() -> dict[str, str]:
    labels = category_labels()
    return {
        c: labels[c]
        for c in (*STEP_CATEGORIES, "tiers_lieu_existant", "point_appui")
        if c in labels
    }


def _summary(dossier: Dossier) -> list[str]:
    """The one-page summary in plain French, every figure read from the tables."""
    diagnosis = dossier.diagnosis
    communes = diagnosis.communes
    active = float(communes["actifs_occupes"].sum())
    potential = float(communes["potentiel"].sum())
    paragraphs = [
        _(
            "{territory} compte {n} communes où résident {active} actifs occupés. Parmi eux, "
            "{potential} sont des usagers potentiels d'un tiers-lieu (estimation de l'outil : "
            "actifs indépendants ou travaillant à plus de {long} minutes de chez eux, sur des "
            "emplois compatibles avec le télétravail), soit {rate} pour 1 000 actifs.",
            territory=dossier.territory_name,
            n=format_number(len(communes)),
            active=format_number(active),
            potential=format_number(potential),
            long=format_number(diagnosis.long_commute_minutes),
            rate=format_number(potential * 1000 / active) if active else "—",
        )
    ]
    catchments = diagnosis.catchments.sort_values("potentiel", ascending=False).head(3)
    if len(catchments):
        paragraphs.append(
            _(
                "Où : les bassins de {m} minutes qui réunissent le plus d'usagers potentiels "
                "sont centrés sur {places}.",
                m=format_number(dossier.minutes),
                places=", ".join(
                    _("{name} ({n})", name=row.nom, n=format_number(float(str(row.potentiel))))
                    for row in catchments.itertuples()
                ),
            )
        )
    structures = dossier.communities.structures
    community = dossier.communities.communities
    carriers = (
        int(structures["categorie"].isin(COMMUNITY_CATEGORIES).sum()) if len(structures) else 0
    )
    with_base = int(community["communaute_base"].fillna(value=False).astype(bool).sum())
    openness = community["ouverture"].value_counts()
    paragraphs.append(
        _(
            "Communautés-base : {carriers} structures des étapes 1, 2 et 4 de l'étude (CAE, "
            "SCOP et SCIC du numérique, associations) ; le bassin de {b} communes sur {c} a "
            "une communauté-base ({open} ouvertes, {widen} à élargir, {closed} fermées).",
            carriers=format_number(carriers),
            b=format_number(with_base),
            c=format_number(len(community)),
            open=format_number(int(openness.get("ouverte", 0))),
            widen=format_number(int(openness.get("a_elargir", 0))),
            closed=format_number(int(openness.get("fermee", 0))),
        )
    )
    survey = dossier.survey
    if survey is not None:
        candidates = (
            int((survey.groups["statut"] == "communaute_base_candidate").sum())
            if "statut" in survey.groups.columns
            else 0
        )
        paragraphs.append(
            _(
                "Questionnaire : {n} répondants habitent le territoire ; {g} groupes de "
                "répondants à moins de {m} minutes les uns des autres partagent un thème "
                "(communautés-base candidates).",
                n=format_number(len(survey.respondents)),
                g=format_number(candidates),
                m=format_number(dossier.minutes),
            )
        )
    else:
        paragraphs.append(_("Questionnaire : aucune réponse n'est enregistrée pour ce territoire."))
    sites = dossier.sites
    if sites is not None:
        res = sites.result
        listed = "; ".join(
            _site_phrase(row, sites.unit) for row in sites.sites.to_dict(orient="records")
        )
        paragraphs.append(
            _(
                "Sites recommandés : {sites}. Ensemble, ils touchent {value} {unit} sur {total} "
                "({share}) ; aucune autre combinaison de {k} sites ne fait mieux de plus de "
                "{gap} (écart prouvé par le solveur).",
                sites=listed,
                value=format_number(res.objective),
                unit=sites.unit,
                total=format_number(res.total_demand),
                share=format_percent(res.objective / res.total_demand if res.total_demand else 0.0),
                k=len(res.sites),
                gap=format_gap(res.gap),
            )
        )
    else:
        paragraphs.append(_("Sites : aucun site n'a été choisi (voir les notes)."))
    return paragraphs


def _first_of_each(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with ``column`` shown on the first of consecutive equal rows only."""
    if frame.empty or column not in frame.columns:
        return frame
    values = frame[column].astype("string")
    repeated = values.eq(values.shift()).fillna(value=False).to_numpy(dtype=bool)
    out = frame.copy()
    out[column] = values.mask(repeated, "")
    return out


def _site_phrase(row: Mapping[Hashable, Any], unit: str) -> str:
    """« 1. Gap (thème Numérique, gain marginal 1 855 usagers) » (no theme: not named)."""
    theme = value_label("theme", row.get("theme"))
    gain = format_number(float(row["gain_marginal"]))
    if theme:
        return _(
            "{rank}. {name} (thème {theme}, gain marginal {gain} {unit})",
            rank=row["rang"],
            name=row["nom"],
            theme=theme,
            gain=gain,
            unit=unit,
        )
    return _(
        "{rank}. {name} (gain marginal {gain} {unit})",
        rank=row["rang"],
        name=row["nom"],
        gain=gain,
        unit=unit,
    )


def _engine_words(engine: str, parameters: dict[str, object]) -> list[str]:
    lines = [_("Moteur de temps de trajet : {engine}.", engine=_(_ENGINES.get(engine, engine)))]
    for key, value in parameters.items():
        if key == "engine":
            continue
        shown = (
            format_figure(float(value))
            if isinstance(value, int | float) and not isinstance(value, bool)
            else str(value)
        )
        label = _PARAMETERS.get(key, key.replace("_", " "))
        lines.append(f"{_(label)} : {shown}")
    return lines


def _sources(dossier: Dossier) -> list[dict[str, Any]]:
    return [
        {
            "role": source_role_label(p.role),
            "name": PurePath(p.location).name or p.location,
            "location": p.location,
            "vintage": p.vintage or "—",
            "licence": licence_text(dossier, p),
            "synthetic": p.synthetic,
        }
        for p in dossier.provenance
    ]


def _steps(dossier: Dossier) -> list[dict[str, Any]]:
    """The directory by step of the study: each category and its structures."""
    structures = dossier.communities.structures
    labels = category_labels()
    names = _names(dossier)
    steps = []
    for category in (*STEP_CATEGORIES, "tiers_lieu_existant", "point_appui"):
        part = structures[structures["categorie"] == category] if len(structures) else structures
        frame = readable_frame(
            part.assign(nom_commune=part["code_commune"].map(names)) if len(part) else part
        )
        steps.append(
            {
                "label": labels.get(category, category),
                "count": len(part),
                "table": _table(frame, ["nom", "nom_commune", "themes", "raison"], limit=25)
                if len(part)
                else None,
            }
        )
    return steps


def _context(dossier: Dossier, basemap: Basemap | None = None) -> dict[str, Any]:
    diagnosis = dossier.diagnosis
    table = partial(_table, whole=whole_columns(dossier))
    labels = indicator_labels()
    communes = diagnosis.communes.assign(
        taux_potentiel=rate_per_thousand(
            diagnosis.communes["potentiel"], diagnosis.communes["actifs_occupes"]
        )
    )
    catchments = diagnosis.catchments.assign(
        taux_potentiel=rate_per_thousand(
            diagnosis.catchments["potentiel"], diagnosis.catchments["actifs_occupes"]
        )
    ).sort_values("potentiel", ascending=False)
    totals = {
        name: float(diagnosis.communes[name].sum())
        for name in INDICATORS
        if name in diagnosis.communes
    }
    warnings, infos = split_notes([*diagnosis.notes, *dossier.communities.notes])
    if dossier.fictional and not any("FICTIF" in w for w in warnings):
        warnings.append(
            _("Territoire FICTIF de démonstration : aucun chiffre ne décrit un lieu réel.")
        )
    banner = " ".join(
        part
        for part in (
            _("SYNTHÉTIQUE") if dossier.synthetic else "",
            _("FICTIF") if dossier.fictional else "",
        )
        if part
    )
    headline = [
        "actifs_occupes",
        "potentiel",
        "independants",
        "salaries_trajet_plus_30min",
        "tic",
        "teletravaillables",
    ]
    table_columns = [
        "nom",
        "actifs_occupes",
        "independants",
        "salaries_trajet_plus_30min",
        "tic",
        "potentiel",
        "taux_potentiel",
    ]
    community = dossier.communities.communities
    openness = [
        (_(label), int((community["ouverture"] == level).sum()))
        for level, label in OPENNESS_LABELS.items()
    ]
    sites = dossier.sites
    survey = dossier.survey
    context: dict[str, Any] = {
        "dossier": dossier,
        "warnings": warnings,
        "infos": list(dict.fromkeys([*infos, *dossier.notes])),
        "banner": banner,
        "footer_text": _css_string(
            _(
                "{territory} — dossier du {date}",
                territory=dossier.territory_name,
                date=format_date(dossier.generated),
            )
        ),
        "banner_text": _css_string(banner),
        "date": format_date(dossier.generated),
        "generated": format_datetime(dossier.generated) + " (" + _("heure de Paris") + ")",
        "summary": _summary(dossier),
        "totals": [
            (labels[name], format_number(totals[name])) for name in headline if name in totals
        ],
        "maps": _maps(dossier, basemap),
        "communes_table": table(communes.sort_values("potentiel", ascending=False), table_columns),
        "catchments_table": table(
            catchments,
            [
                "nom",
                "nb_communes",
                "diametre_minutes",
                "actifs_occupes",
                "potentiel",
                "taux_potentiel",
            ],
            limit=10,
        ),
        "bassins_table": None
        if diagnosis.bassins is None
        else table(
            diagnosis.bassins.assign(
                taux_potentiel=rate_per_thousand(
                    diagnosis.bassins["potentiel"], diagnosis.bassins["actifs_occupes"]
                )
            ),
            [
                "nom",
                "nb_communes",
                "nb_communes_bassin",
                "actifs_occupes",
                "potentiel",
                "taux_potentiel",
            ],
        ),
        "definition_text": definition_label(diagnosis.definition, diagnosis.minutes),
        "small_threshold": INSEE_SMALL_COUNT_CAUTION,
        "flagged": int(
            diagnosis.communes["effectifs_faibles"]
            .astype("string")
            .fillna("")
            .str.len()
            .gt(0)
            .sum()
        )
        if "effectifs_faibles" in diagnosis.communes
        else 0,
        "steps": _steps(dossier),
        "openness": openness,
        "communities_table": table(
            readable_frame(
                community.sort_values(
                    ["nb_structures_communaute", "nom"], ascending=[False, True], kind="stable"
                )
            ),
            [
                "nom",
                "communaute_base",
                "ouverture",
                "nb_structures_communaute",
                "nb_partenaires",
                "nb_ancrages",
                "ouverture_raison",
            ],
        ),
        "survey": survey,
        "typology_table": None
        if survey is None
        else table(
            survey.typology,
            ["libelle", "effectif", "repondants", "part", "ic95_bas", "ic95_haut", "reference"],
            limit=None,
        ),
        "answers_table": None
        if survey is None
        else table(
            _first_of_each(survey.answers, "libelle_question"),
            ["libelle_question", "libelle", "effectif", "part"],
            limit=None,
        ),
        "groups_table": None
        if survey is None or survey.groups.empty
        else table(
            readable_frame(_site_names(survey.groups, _names(dossier), "communes")),
            ["groupe", "libelle_theme", "membres", "communes", "diametre_minutes", "statut"],
        ),
        "sites": sites,
        "sites_table": None
        if sites is None
        else table(
            readable_sites(sites.sites),
            [
                "rang",
                "nom",
                "theme",
                "communaute_base",
                "valeur",
                "gain_marginal",
                "perte_si_retire",
            ],
            limit=None,
        ),
        "alternatives_table": None
        if sites is None
        else table(
            _site_names(sites.alternatives, _names(dossier)),
            ["nom_site_exclu", "objectif", "perte", "perte_pct", "sites", "ecart"],
            limit=None,
        ),
        "sensitivity_table": None
        if sites is None
        else table(
            _site_names(sites.sensitivity, _names(dossier)),
            [
                "minutes",
                "nb_sites",
                "objectif",
                "part_couverte",
                "ecart",
                "sites",
                "sites_communs_reference",
            ],
            limit=None,
        ),
        "site_method": [] if sites is None else method_paragraphs(sites),
        "solver_words": None
        if sites is None
        else _(
            "Solveur : {solver} — {reason} Écart prouvé : {gap}.",
            solver=solver_label(sites.result.solver),
            reason=sites.result.reason,
            gap=format_gap(sites.result.gap),
        ),
        "sources": _sources(dossier),
        "engine_words": _engine_words(diagnosis.engine, diagnosis.engine_parameters),
        "teleworkable": [
            (code, _(CS1_LABELS[code]) if code in CS1_LABELS else "", format_percent(share))
            for code, share in diagnosis.teleworkable_shares.items()
        ],
        "teleworkable_source": _(diagnosis.teleworkable_source),
        "shown_rows": _SHOWN,
    }
    return context


def render_dossier_html(dossier: Dossier, *, basemap: Basemap | None = None) -> str:
    """Return the dossier as one HTML page (the PDF's source); ``basemap``: an optional
    tile basemap under the maps (:mod:`~tierslieux.reports.dossier.basemap`)."""
    return render_page("dossier.html", **_context(dossier, basemap))


def render_pdf(dossier: Dossier, *, basemap: Basemap | None = None) -> bytes:
    """Return ``dossier.pdf`` (A4) as bytes (``basemap`` as :func:`render_dossier_html`)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415  (heavy, only for a PDF)

    pdf = HTML(string=render_dossier_html(dossier, basemap=basemap)).write_pdf()
    return bytes(pdf) if pdf is not None else b""
