"""Security of every response and every change: headers, CSRF tokens.

- :class:`SecurityHeadersMiddleware` adds to every response (pages, files, errors) the
  Content-Security-Policy :data:`CSP` (no inline script or style: every script and
  style sheet is a file under ``/static/``; the host of the optional tile basemap is
  added to ``img-src`` and ``connect-src`` when one is configured, see
  :func:`content_security_policy`), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy``, ``X-Frame-Options`` and, in production, HSTS.
- CSRF: each session holds a random token (:func:`csrf_token`).  Every request that
  can change something (POST, PUT, PATCH, DELETE) must carry it, either as the form
  field :data:`CSRF_FIELD` (``{{ csrf_field() }}`` in a template) or, for htmx and
  scripts, in the header :data:`CSRF_HEADER` (the layout puts it in
  ``<meta name="csrf-token">`` and in ``hx-headers``); :func:`verify_csrf`, a
  dependency of the whole application, refuses it otherwise with 403.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders

from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SecurityHeadersMiddleware",
    "content_security_policy",
    "csrf_token",
    "verify_csrf",
]

#: Content-Security-Policy of every response: nothing inline, nothing from elsewhere.
#: ``worker-src blob:`` lets MapLibre GL start its map worker.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def content_security_policy(basemap_origin: str | None = None) -> str:
    """:data:`CSP`, with ``basemap_origin`` (``https://tile.example.org``) allowed for
    images and fetches when a tile basemap is configured, and only then."""
    if not basemap_origin:
        return CSP
    return CSP.replace(
        "img-src 'self' data:;", f"img-src 'self' data: {basemap_origin};", 1
    ).replace("connect-src 'self';", f"connect-src 'self' {basemap_origin};", 1)


CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SESSION_KEY = "csrf"
_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(
        self, app: ASGIApp, *, production: bool = False, basemap_origin: str | None = None
    ) -> None:
        self.app = app
        self.headers = dict(_HEADERS)
        self.headers["content-security-policy"] = content_security_policy(basemap_origin)
        if production:
            self.headers["strict-transport-security"] = _HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers at the start of each response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session (drawn on first use)."""
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


def rotate_csrf(request: Request) -> str:
    """Draw a new CSRF token (at login and logout)."""
    request.session.pop(_SESSION_KEY, None)
    return csrf_token(request)


async def verify_csrf(request: Request) -> AsyncIterator[None]:
    """Refuse (403) a state-changing request without the session's CSRF token.

    The token is read from the header :data:`CSRF_HEADER` (htmx, scripts) or from the
    form field :data:`CSRF_FIELD` (plain forms, also multipart uploads). A form read
    here has its uploaded files closed once the request is answered (also for a route
    that takes no file, which FastAPI would not close).
    """
    if request.method in SAFE_METHODS:
        yield
        return
    expected = request.session.get(_SESSION_KEY)
    given = request.headers.get(CSRF_HEADER)
    form = None
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    try:
        if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
            raise HTTPException(
                status_code=403,
                detail=_(
                    "Jeton de sécurité (CSRF) absent ou périmé : rechargez la page puis "
                    "recommencez."
                ),
            )
        yield
    finally:
        if form is not None:
            await form.close()
