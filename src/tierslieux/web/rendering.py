"""Render a page of the web application: ``render(request, "name.html", **context)``.

The templates are ``tierslieux/web/templates/<name>`` in the one Jinja environment of
tierslieux (:func:`tierslieux.reports.templates.environment`, prefix ``web/``); every
page extends ``web/layout.html``, which extends the reports' ``base.html``.  Every page
receives, besides ``context``:

- ``request``, ``user`` (the logged-in :class:`~tierslieux.store.UserView` or ``None``);
- ``csrf_token`` (the session's token) and ``csrf_field()``, the hidden form field;
- ``role_label`` (role code → words) and ``warnings`` (the red banner, empty by default);
- ``flashes``: the messages kept by :func:`flash` before a redirect;
- ``basemap_url`` and ``basemap_credit``: the optional tile basemap of the maps
  (empty without one; ``web/layout.html`` then writes no ``tierslieux-basemap`` meta);
- ``script_messages``: the texts of ``static/js`` (map.js, table.js) in the current
  language, as JSON for ``web/layout.html``'s ``tierslieux-messages`` meta (empty in
  French: the scripts' own defaults are the French texts);
- ``person(login)``: who wrote a change, by the user's display name, the login as the
  element's title (:func:`person_markup`; the users are read once per page, when asked).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from tierslieux.i18n import N_, current_language
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import list_users, role_label
from tierslieux.reports.templates import render_page
from tierslieux.web.auth import current_user, repositories
from tierslieux.web.security import CSRF_FIELD, CSRF_HEADER, csrf_token

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from fastapi import Request

__all__ = [
    "SCRIPT_MESSAGES",
    "flash",
    "person_markup",
    "render",
    "render_text",
    "script_messages",
]

_FLASH_KEY = "flash"

#: The French texts of the scripts (``MESSAGES`` of static/js/map.js and table.js, the
#: same keys), translated for the page by :func:`script_messages`.
SCRIPT_MESSAGES: dict[str, dict[str, str]] = {
    "map": {
        "indicator": N_("Indicateur"),
        "commune": N_("Commune"),
        "chooseCommune": N_("— choisir une commune —"),
        "noData": N_("Sans donnée"),
        "unit": N_("Unité : {unit}"),
        "tooltip": N_("{name} ({code}) : {value}"),
        "catchmentTitle": N_("Bassin de {minutes} minutes autour de {name}"),
        "catchmentTitleAny": N_("Bassin autour de {name}"),
        "catchmentCount": N_("{count} communes dans le bassin"),
        "catchmentLoading": N_("Chargement du bassin de {name}…"),
        "catchmentError": N_("Bassin de {name} indisponible ({error})."),
        "loading": N_("Chargement de la carte…"),
        "loadError": N_("La carte n'a pas pu être chargée ({error})."),
        "webglError": N_(
            "Ce navigateur ne peut pas afficher la carte interactive (WebGL indisponible) ; "
            "le tableau des communes donne les mêmes chiffres."
        ),
        "mapLabel": N_("Carte des communes"),
        "zoomIn": N_("Zoomer"),
        "zoomOut": N_("Dézoomer"),
        "resetBearing": N_("Réorienter la carte vers le nord"),
        "close": N_("Fermer"),
        "attribution": N_("Crédits du fond de carte"),
        "pointTooltip": N_("{name} — {label} ({commune})"),
        "pointLink": N_("Ouvrir la fiche contact"),
        "pointsCount": N_("{count} structures sur la carte"),
        "sameValue": N_("Toutes les communes ont la même valeur : {value}"),
        "sameValueKnown": N_("Toutes les communes renseignées ont la même valeur : {value}"),
    },
    "table": {
        "filter": N_("Filtrer les lignes"),
        "shown": N_("Lignes affichées : {shown} sur {total}"),
    },
}


def script_messages() -> str:
    """The scripts' texts in the current language as JSON, « » in French (see
    :data:`SCRIPT_MESSAGES`)."""
    if current_language() == "fr":
        return ""
    translated = {
        script: {key: _(text) for key, text in texts.items()}
        for script, texts in SCRIPT_MESSAGES.items()
    }
    return json.dumps(translated, ensure_ascii=False, sort_keys=True)


def flash(request: Request, text: str) -> None:
    """Keep a message for the next page shown to this session (after a redirect)."""
    messages = list(request.session.get(_FLASH_KEY, []))
    messages.append(text)
    request.session[_FLASH_KEY] = messages


def person_markup(login: str | None, names: Mapping[str, str]) -> Markup:
    """The author ``login`` of a change as shown: the user's display name, the login as
    title (``<span title="camille@exemple.fr">Camille Martin</span>``); a login of no
    user (``cli``, a removed account) as written; « — » when there is none."""
    if not login:
        return Markup("—")
    name = names.get(login.strip().lower())
    if not name or name == login:
        return escape(login)
    return Markup('<span class="personne" title="{}">{}</span>').format(login, name)


def _people(request: Request) -> Callable[[str | None], Markup]:
    """``person(login)`` of the page: the users' display names, read on first use."""
    names: dict[str, str] = {}
    loaded = False

    def person(login: str | None) -> Markup:
        nonlocal loaded
        if not loaded and login:
            for user in list_users(repositories(request)):
                names[user.login.lower()] = user.display_name
                if user.email:
                    names.setdefault(user.email.lower(), user.display_name)
            loaded = True
        return person_markup(login, names)

    return person


def render_text(request: Request, name: str, /, **context: Any) -> str:  # noqa: ANN401
    """The HTML of the page ``web/<name>`` for ``request`` (see the module documentation)."""
    token = csrf_token(request)
    field = Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)
    context.setdefault("user", current_user(request))
    context.setdefault("warnings", ())
    context.setdefault("flashes", request.session.pop(_FLASH_KEY, []))
    settings = getattr(request.app.state, "settings", None)
    context.setdefault("basemap_url", getattr(settings, "basemap_url", ""))
    context.setdefault("basemap_credit", getattr(settings, "basemap_credit", ""))
    context.setdefault("person", _people(request))
    context.setdefault("script_messages", script_messages())
    return render_page(
        f"web/{name}",
        request=request,
        csrf_token=token,
        csrf_field=lambda: field,
        csrf_header=CSRF_HEADER,
        hx_headers=escape('{"%s": "%s"}' % (CSRF_HEADER, token)),  # noqa: UP031
        role_label=role_label,
        **context,
    )


def render(
    request: Request,
    name: str,
    /,
    status_code: int = 200,
    **context: Any,  # noqa: ANN401
) -> HTMLResponse:
    """An HTML response of the page ``web/<name>`` (see :func:`render_text`)."""
    return HTMLResponse(render_text(request, name, **context), status_code=status_code)
