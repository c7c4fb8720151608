"""The optional tile basemap's address: its check and its credit.

One rule for the web application's maps (``tierslieux web --basemap-url``,
``TIERSLIEUX_BASEMAP_URL``: its host, and only it, then enters the
Content-Security-Policy) and for the dossier's print maps (``tierslieux dossier
--basemap-url``).  Off by default: the commune outlines alone make a readable map.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

__all__ = ["BasemapError", "basemap_credit", "check_basemap_url"]


class BasemapError(TierslieuxError, ValueError):
    """The tile basemap's URL is not a tile template the maps can use safely."""


_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_LOOPBACK = {"localhost", "127.0.0.1"}
#: Credits of the usual tile servers, by the end of their host name.
_CREDITS = {
    "openstreetmap.org": N_("© les contributeurs d'OpenStreetMap"),
    "openstreetmap.fr": N_("© les contributeurs d'OpenStreetMap"),
    "geopf.fr": N_("© IGN"),
    "ign.fr": N_("© IGN"),
}


def check_basemap_url(url: str) -> str:
    """Return the tile template ``url`` (stripped), or ``""`` for none.

    A template is an ``https`` URL (``http`` on the loopback only) whose path or query
    holds ``{z}``, ``{x}`` and ``{y}``, as OpenStreetMap's
    ``https://tile.openstreetmap.org/{z}/{x}/{y}.png`` or the IGN's WMTS
    (``…&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}…``).

    Raises
    ------
    BasemapError
        Any other value (its host goes into the Content-Security-Policy).
    """
    text = url.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
    if not secure or not _HOST.match(parts.netloc) or missing or any(c in text for c in " ;'\"\n"):
        raise BasemapError(
            _(
                "Adresse du fond de carte invalide « {url} » : attendu un modèle d'adresse "
                "de tuiles en https contenant {{z}}, {{x}} et {{y}}, par exemple "
                "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png.",
                url=text[:200],
            )
        )
    return text


def basemap_credit(url: str, attribution: str = "") -> str:
    """The credit of the basemap ``url``: ``attribution`` when given, else the usual one
    of its host (OpenStreetMap, IGN), else none."""
    if attribution or not url:
        return attribution
    host = urlsplit(url).hostname or ""
    return next(
        (_(text) for end, text in _CREDITS.items() if host == end or host.endswith("." + end)),
        "",
    )
