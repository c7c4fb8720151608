"""The one Jinja environment of tierslieux's pages, and what every page shares.

Every HTML page (the diagnostic, the communities directory, the sites, the
questionnaire analysis, and the pages of the web application, ``web/*.html`` from
``tierslieux/web/templates``) extends
``templates/base.html``: the ``lang`` attribute of the current language, the one style
sheet (``templates/style.css``, inlined so that a page works offline and alone), a
header, a red banner for the warnings about synthetic or fictional data, and a footer.

Autoescaping is on for ``.html`` and ``.xml`` templates and for strings: a name such
as ``<script>`` is shown, never run.  Undefined variables raise (``StrictUndefined``).
The templates call ``_("...")`` (:func:`tierslieux.i18n.gettext`; a placeholder given
as :class:`~markupsafe.Markup`, a person's name with its title say, is kept as HTML,
the rest of the sentence escaped) and format numbers with the filters ``nombre``,
``chiffre`` and ``pourcent`` of :mod:`tierslieux.i18n`; ``traduit`` gives a French text
kept by a run (a note) in the page's language when it is the catalogue's
(:func:`~tierslieux.i18n.translate_stored`).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup, escape

from tierslieux import __version__
from tierslieux.i18n import (
    current_language,
    format_date,
    format_datetime,
    format_figure,
    format_number,
    format_percent,
    language_name,
    translate_stored,
)
from tierslieux.i18n import gettext as _
from tierslieux.model.siting import format_gap
from tierslieux.pipeline.inputs import demo_note, synthetic_note
from tierslieux.reports.labels import (
    column_label,
    column_labels,
    engine_sentences,
    file_name,
    source_role_label,
    value_label,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["WEB_TEMPLATES", "environment", "render_page", "split_notes"]

#: Folder of the web application's templates (``web/<name>`` in :func:`environment`).
WEB_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def _template_gettext(message: str, /, **params: object) -> str:
    """``_()`` of the templates: :func:`~tierslieux.i18n.gettext`, whose ``Markup``
    placeholders stay HTML (the sentence around them is escaped)."""
    kept = {name: value for name, value in params.items() if isinstance(value, Markup)}
    if not kept:
        return _(message, **params)
    marks = {name: f"\x00{index}\x00" for index, name in enumerate(kept)}
    text = str(escape(_(message, **(params | marks))))
    for name, mark in marks.items():
        text = text.replace(mark, str(kept[name]))
    return Markup(text)  # noqa: S704 - escaped above, the placeholders are Markup


def _missing(value: object) -> bool:
    if value is None or value is jinja2.Undefined:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 (NaN, pd.NA)
    except TypeError:  # pd.NA != pd.NA raises in a boolean context
        return True


def _number(value: object, decimals: int = 0) -> str:
    """``nombre`` filter: a number in the current language, « — » when missing."""
    if _missing(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    return format_number(number, decimals) if math.isfinite(number) else "—"


def _figure(value: object) -> str:
    """``chiffre`` filter: a figure with the decimals that matter, « — » when missing."""
    if _missing(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    return format_figure(number) if math.isfinite(number) else "—"


def _percent(value: object, decimals: int = 0) -> str:
    """``pourcent`` filter: a share (0.125) as a percentage, « — » when missing."""
    if _missing(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    return format_percent(number, decimals) if math.isfinite(number) else "—"


def _yes_no(value: object) -> str:
    """``oui_non`` filter: a boolean in words, « — » when unknown."""
    if _missing(value):
        return "—"
    return _("oui") if value else _("non")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Return the Jinja environment of every page (built once per process).

    The environment holds no per-run state: the language is read when a page is
    rendered (``lang`` in ``base.html``), so one environment serves every language.
    """
    env = jinja2.Environment(
        # The reports' templates, and the web application's under the prefix "web/"
        # (a folder of the package read as files: the reports never import the web layer).
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("tierslieux.reports", "templates"),
                jinja2.PrefixLoader({"web": jinja2.FileSystemLoader(WEB_TEMPLATES)}),
            ]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        _=_template_gettext,
        gettext=_template_gettext,
        current_language=current_language,
        language_name=language_name,
        version=__version__,
        column_labels=column_labels,
        column_label=column_label,
        value_label=value_label,
        select_options=select_options,
        engine_sentences=engine_sentences,
        source_role_label=source_role_label,
    )
    env.filters.update(
        nombre=_number,
        chiffre=_figure,
        pourcent=_percent,
        ecart=format_gap,
        oui_non=_yes_no,
        date_heure=format_datetime,
        date=format_date,
        nom_fichier=file_name,
        traduit=translate_stored,
    )
    return env


def select_options(
    pairs: Iterable[tuple[str, str] | str], selected: str = "", *, with_code: bool = False
) -> Markup:
    """The ``<option>`` elements of ``(value, label)`` pairs (or values shown as they
    are), ``selected`` marked.

    ``with_code`` writes « label (value) » (a commune and its INSEE code).  Written in
    Python rather than in a template loop: a list of a region's communes is hundreds
    of options on every page of a directory.
    """
    parts: list[str] = []
    for pair in pairs:
        value, label = (pair, pair) if isinstance(pair, str) else pair
        text = f"{label} ({value})" if with_code else str(label)
        mark = " selected" if value == selected else ""
        parts.append(f'<option value="{escape(value)}"{mark}>{escape(text)}</option>')
    return Markup("".join(parts))  # noqa: S704 - every value escaped above


def split_notes(notes: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split notes into warnings (synthetic census, fictional territory) and the rest.

    Warnings go in the red banner of ``base.html``; the other notes are information
    and are shown apart, in the page.
    """
    alarming = {synthetic_note(), demo_note()}
    warnings: list[str] = []
    infos: list[str] = []
    for note in notes:
        (warnings if note in alarming else infos).append(note)
    return warnings, infos


def render_page(name: str, /, **context: object) -> str:
    """Render the page template ``name`` with ``context``; return the HTML text.

    ``warnings`` (the banner) defaults to none and ``generated`` to the current time
    in Paris.  Entities are written as :func:`html.escape` writes them (``&#x27;`` and
    ``&quot;``), the form the other tools of the project compare pages with.
    """
    context.setdefault("warnings", ())
    now = format_datetime(dt.datetime.now(dt.UTC))
    context.setdefault("generated", f"{now} ({_('heure de Paris')})")
    page = environment().get_template(name).render(**context)
    # markupsafe writes &#39; and &#34; where html.escape writes &#x27; and &quot;:
    # same characters, one spelling across every page.
    return page.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")


def safe_svg(svg: str) -> Markup:
    """Mark an SVG built by :mod:`tierslieux.reports.maps` (every value escaped) as safe."""
    return Markup(svg)  # noqa: S704 (the SVG builders escape every text they embed)
