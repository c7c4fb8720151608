"""Who is asking: the session's user, and the dependencies that enforce roles.

Use them as FastAPI dependencies (``async``: they run on the event loop, their few
short reads of the store included, instead of taking a worker thread each before the
route's own)::

    @router.get("/admin/journal")
    def audit_page(request: Request, user: UserView = Depends(require_role("administrateur"))):
        ...

    @router.post("/projets/{project_id}/fichiers")
    def upload(access: ProjectAccess = Depends(project_editor)):
        ...

- :func:`current_user`: the logged-in, active user or ``None``;
- :func:`require_user`: a logged-in user, else :class:`LoginRequired` (a page
  redirects to the login form, an htmx or JSON request gets 401);
- :func:`require_role` (``require_role("administrateur", "charge_de_mission")``):
  403 for any other role; :data:`require_admin` and :data:`require_editor` are the
  usual two;
- :func:`project_viewer`, :func:`project_editor`: the project of the path parameter
  ``project_id`` that the user may read (member or administrator) or change
  (chargé de mission member or administrator), else 404 / 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Depends, HTTPException, Request

from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import UnknownRecordError
from tierslieux.pipeline.projects import project_visit, rights

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tierslieux.pipeline.accounts import UserView
    from tierslieux.pipeline.database import Repositories
    from tierslieux.pipeline.projects import ProjectView

__all__ = [
    "LoginRequired",
    "ProjectAccess",
    "current_user",
    "log_in_session",
    "log_out_session",
    "project_editor",
    "project_viewer",
    "repositories",
    "require_admin",
    "require_editor",
    "require_role",
    "require_user",
]

_USER_KEY = "user_id"


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The route needs a logged-in user (handled by the application: redirect or 401)."""


def repositories(request: Request) -> Repositories:
    """The store's repositories of the application."""
    repos: Repositories = request.app.state.repos
    return repos


def current_user(request: Request) -> UserView | None:
    """The logged-in user of the session (``None`` when nobody or a disabled account)."""
    if hasattr(request.state, "user"):
        cached: UserView | None = request.state.user
        return cached
    user: UserView | None = None
    user_id = request.session.get(_USER_KEY)
    if isinstance(user_id, int):
        try:
            user = repositories(request).users.get_user(user_id)
        except UnknownRecordError:
            user = None
        if user is not None and not user.active:
            user = None
        if user is None:
            request.session.pop(_USER_KEY, None)
    request.state.user = user
    return user


async def require_user(request: Request) -> UserView:
    """A logged-in user, else :class:`LoginRequired`."""
    user = current_user(request)
    if user is None:
        raise LoginRequired
    return user


def _forbidden() -> HTTPException:
    return HTTPException(
        status_code=403, detail=_("Votre rôle ne permet pas cette action ou cette page.")
    )


def require_role(*roles: str) -> Callable[..., Awaitable[UserView]]:
    """A dependency: a logged-in user whose role is one of ``roles``, else 403."""
    allowed = frozenset(roles)

    async def dependency(user: UserView = Depends(require_user)) -> UserView:
        if user.role not in allowed:
            raise _forbidden()
        return user

    dependency.__name__ = "require_role_" + "_".join(sorted(allowed))
    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


#: Administrators only (users, audit log).
require_admin = require_role("administrateur")
#: Roles that may change something (lecteur excluded).
require_editor = require_role("administrateur", "charge_de_mission")


@dataclass(frozen=True)
class ProjectAccess:
    """A project and the user reaching it; ``editable`` when they may change it."""

    project: ProjectView
    user: UserView
    editable: bool


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail=_("Projet introuvable."))


async def project_viewer(request: Request, project_id: int) -> ProjectAccess:
    """The project ``project_id`` if the user may read it (else 404, as if absent).

    Without a logged-in, active user: :class:`LoginRequired`, as :func:`require_user`.
    The user, the project and the membership are read in one transaction, on every
    request: a disabled account or a removed member is refused at once.
    """
    user_id = request.session.get(_USER_KEY)
    if not isinstance(user_id, int):
        request.state.user = None
        raise LoginRequired
    visit = project_visit(repositories(request), user_id, project_id)
    user = visit.user if visit.user is not None and visit.user.active else None
    request.state.user = user
    if user is None:
        request.session.pop(_USER_KEY, None)
        raise LoginRequired
    if visit.project is None:
        raise _not_found()
    viewable, editable = rights(user, member=visit.member)
    if not viewable:
        raise _not_found()
    return ProjectAccess(visit.project, user, editable)


async def project_editor(request: Request, project_id: int) -> ProjectAccess:
    """The project ``project_id`` if the user may change it (else 404 or 403)."""
    access = await project_viewer(request, project_id)
    if not access.editable:
        raise _forbidden()
    return access


def log_in_session(request: Request, user: UserView) -> None:
    """Start a session for ``user`` (a fresh session: no data of the previous one kept)."""
    request.session.clear()
    request.session[_USER_KEY] = user.id
    request.state.user = user


def log_out_session(request: Request) -> None:
    """End the session."""
    request.session.clear()
    request.state.user = None


def client_ip(request: Request) -> str | None:
    """The client's address (the proxy's ``X-Forwarded-For`` when uvicorn trusts it)."""
    return request.client.host if request.client else None


def audit_context(request: Request) -> dict[str, Any]:
    """``actor`` and ``ip`` of the request, for the audit log."""
    user = current_user(request)
    return {"actor": user.login if user else None, "ip": client_ip(request)}
