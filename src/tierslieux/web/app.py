"""The application factory: ``create_app(settings)`` (``tierslieux.web.app:create_app``).

Every response carries the security headers (:mod:`tierslieux.web.security`); every
state-changing request needs the session's CSRF token (a dependency of the whole
application, so new routes get it too); sessions are signed cookies (HttpOnly,
SameSite=Lax, Secure in production); static files are served from
``tierslieux/web/static`` at ``/static/`` (``/static/base.css`` is the reports' style
sheet).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from tierslieux.errors import default_label, use_labels
from tierslieux.i18n import LANGUAGES, use_language
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.jobs import JobRunner
from tierslieux.pipeline.project_runs import ProjectRuns
from tierslieux.reports.templates import environment
from tierslieux.web import campaign_desk, campaigns, communities, contacts, public
from tierslieux.web.auth import LoginRequired
from tierslieux.web.diagnostic import router as diagnostic_router
from tierslieux.web.dossier import router as dossier_router
from tierslieux.web.memo import settle
from tierslieux.web.questionnaire import router as questionnaire_router
from tierslieux.web.rendering import render
from tierslieux.web.routes import router
from tierslieux.web.runs import router as runs_router
from tierslieux.web.security import SecurityHeadersMiddleware, verify_csrf
from tierslieux.web.settings import WebSettings
from tierslieux.web.sites import router as sites_router

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SESSION_COOKIE", "STATIC", "create_app", "route_table"]

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "tierslieux_session"


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every ``(method, path)`` of the application's routes (included routers walked)."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # FastAPI >= 0.120 keeps included routers as one route
                context = getattr(route, "include_context", None)
                walk(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
            elif isinstance(route, APIRoute):
                found.extend(
                    (method, prefix + route.path) for method in sorted(route.methods or ())
                )

    walk(list(app.routes), "")
    return found


def _wants_html(request: Request) -> bool:
    """A browser's page request (not htmx, not a JSON client)."""
    accept = request.headers.get("accept", "")
    if "HX-Request" in request.headers:
        return False
    return "text/html" in accept or "application/json" not in accept


def _base_css() -> str:
    loader = environment().loader
    assert loader is not None  # noqa: S101 - the environment always has one
    source, _name, _uptodate = loader.get_source(environment(), "style.css")
    return source


class LanguageMiddleware:
    """ASGI middleware: the installation's language for everything a request runs.

    A plain ASGI middleware (not ``@app.middleware("http")``, whose wrapper streams
    every response body through an extra task: a cost on each request and on each
    chunk of the large map documents).
    """

    def __init__(self, app: ASGIApp, *, lang: str) -> None:
        self.app = app
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request in the language (the worker threads inherit it).

        Input names in messages and notes read as in a form (« grille de densité »),
        never as the command line's options, even when ``tierslieux web`` set the CLI's
        labeller in the context the server inherited (jobs copy this context).
        """
        with use_language(self.lang), use_labels(default_label):
            await self.app(scope, receive, send)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web application over the store and workspace named by ``settings``.

    Parameters
    ----------
    settings
        ``None`` reads them from the environment (:meth:`WebSettings.from_environment`),
        as each worker process of ``tierslieux web --workers N`` does.

    Raises
    ------
    SecretKeyError
        In production without a proper ``TIERSLIEUX_SECRET_KEY``.
    StoreError
        When the database cannot be opened or upgraded.
    """
    settings = (settings or WebSettings.from_environment()).with_secret()
    repos = open_store(settings.core)
    lang = settings.core.lang if settings.core.lang in LANGUAGES else "fr"
    runs = ProjectRuns(repos, JobRunner(max_workers=settings.run_workers))
    runs.recover_interrupted()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        del app
        # The pages' handlers run in the thread pool (see WebSettings.request_threads).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        settle()  # the libraries and the application, alive for the process's life
        yield
        runs.shutdown()

    app = FastAPI(
        title="tierslieux",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(verify_csrf)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.repos = repos
    app.state.runs = runs
    app.state.territories = None
    css = _base_css()

    @app.get("/static/base.css", include_in_schema=False)
    def base_css() -> Response:
        return Response(css, media_type="text/css; charset=utf-8")

    favicon = (STATIC / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon_ico() -> Response:
        # Browsers ask for /favicon.ico whatever the page links: the same small icon.
        return Response(
            favicon,
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(questionnaire_router)
    app.include_router(runs_router)
    app.include_router(diagnostic_router)
    app.include_router(sites_router)
    app.include_router(dossier_router)
    app.include_router(communities.router)
    app.include_router(contacts.router)
    app.include_router(public.router)
    app.include_router(campaigns.router)
    app.include_router(campaign_desk.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        del exc
        if not _wants_html(request):
            return JSONResponse({"detail": _("Connexion requise.")}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/connexion?suivant={target}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _("Erreur.")
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("Cette page n'existe pas.")
        if not _wants_html(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code)
        if request.url.path.startswith("/q/"):
            # The public questionnaire: its own page, nothing of the workspace.
            slug = request.url.path.split("/")[2]
            return render(
                request,
                "public_message.html",
                exc.status_code,
                heading=_("Envoi refusé") if exc.status_code == 403 else _("Erreur"),
                text=detail,
                link=f"/q/{slug}" if slug else None,
                campaign=None,
            )
        headings = {403: _("Accès refusé"), 404: _("Page introuvable")}
        return render(
            request,
            "message.html",
            exc.status_code,
            heading=headings.get(exc.status_code, _("Erreur")),
            text=detail,
            link="/",
            link_text=_("Retour à l'accueil"),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        del exc
        return await http_error(
            request,
            StarletteHTTPException(422, _("Requête incomplète ou mal formée.")),
        )

    app.add_middleware(LanguageMiddleware, lang=lang)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.production,
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        production=settings.production,
        basemap_origin=settings.basemap_origin,
    )
    return app
