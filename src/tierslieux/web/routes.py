"""The pages of the web application: login, setup link, projects, users, audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import (
    MIN_PASSWORD,
    ROLES,
    LoginLockedError,
    add_user,
    audit_entries,
    authenticate,
    complete_setup,
    list_users,
    setup_link_valid,
)
from tierslieux.pipeline.project_dossier import DOSSIER_KIND
from tierslieux.pipeline.project_runs import run_kind_label, run_status_label
from tierslieux.pipeline.projects import (
    DATASET_ROLES,
    TerritoryIndex,
    add_member,
    create_project,
    data_folder_index,
    dataset_label,
    project_datasets,
    projects_for,
    upload_dataset,
)
from tierslieux.pipeline.workspace import Workspace
from tierslieux.web.auth import (
    ProjectAccess,
    client_ip,
    current_user,
    log_in_session,
    log_out_session,
    project_editor,
    project_viewer,
    repositories,
    require_admin,
    require_editor,
    require_user,
)
from tierslieux.web.memo import settle
from tierslieux.web.public import PUBLIC_ROUTES
from tierslieux.web.rendering import flash, render
from tierslieux.web.runs import project_runs
from tierslieux.web.security import rotate_csrf
from tierslieux.web.settings import web_settings
from tierslieux.web.uploads import read_upload

if TYPE_CHECKING:
    from tierslieux.pipeline.accounts import UserView

__all__ = ["PUBLIC_PATHS", "router", "territory_index"]

router = APIRouter()
#: Routes that answer without login (the route-table test checks every other one).
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/connexion",
        "/installation/{token}",
        "/sante",
        "/static/base.css",
        "/static",
        "/favicon.ico",
    }
    | PUBLIC_ROUTES
)
_AUDIT_PAGE = 100


def territory_index(request: Request) -> TerritoryIndex | None:
    """The territories of the workspace, else of the installation's data folder (read
    once per process); ``None`` without either."""
    state = request.app.state
    if getattr(state, "territories", None) is None:
        settings = web_settings(request)
        try:
            state.territories = TerritoryIndex.from_workspace(
                Workspace.open(settings.workspace_path)
            )
        except TierslieuxError:
            state.territories = data_folder_index(settings.core)
            if state.territories is None:
                return None
        settle()  # tens of thousands of names, kept for the process's life
    index: TerritoryIndex = state.territories
    return index


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/projets"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- public ---------------------------------------------------------------------------


@router.get("/sante")
def health() -> dict[str, str]:
    """Liveness probe (no data)."""
    return {"statut": "ok"}


@router.get("/")
def home(request: Request) -> Response:
    """The projects for a logged-in user, else the login form."""
    return _see_other("/projets" if current_user(request) else "/connexion")


@router.get("/connexion")
def login_form(request: Request, suivant: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", message=None, login="", next_url=_safe_next(suivant))


@router.post("/connexion")
def login(
    request: Request,
    login: str = Form(""),
    password: str = Form(""),
    suivant: str = Form(""),
) -> Response:
    """Check the login and password (throttled); start the session."""
    repos = repositories(request)
    try:
        user = authenticate(
            repos,
            login,
            password,
            ip=client_ip(request),
            policy=web_settings(request).login_policy,
        )
    except LoginLockedError as error:
        return render(request, "login.html", 429, message=str(error), login=login, next_url=suivant)
    if user is None:
        return render(
            request,
            "login.html",
            401,
            message=_("Identifiant ou mot de passe incorrect."),
            login=login,
            next_url=_safe_next(suivant),
        )
    log_in_session(request, user)
    rotate_csrf(request)
    return _see_other(_safe_next(suivant))


@router.post("/deconnexion")
def logout(request: Request) -> Response:
    """End the session."""
    log_out_session(request)
    return _see_other("/connexion")


def _setup_page(request: Request, token: str, status: int = 200, **context: Any) -> Response:  # noqa: ANN401
    values = {"errors": {}, "message": None, "email": "", "display_name": ""} | context
    return render(request, "setup.html", status, token=token, min_password=MIN_PASSWORD, **values)


def _invalid_link(request: Request) -> Response:
    return render(
        request,
        "message.html",
        404,
        heading=_("Lien d'installation invalide"),
        text=_("Ce lien est inconnu, expiré ou déjà utilisé, ou un administrateur existe déjà."),
        link="/connexion",
        link_text=_("Se connecter"),
    )


@router.get("/installation/{token}")
def setup_form(request: Request, token: str) -> Response:
    """The form of the one-time setup link (first administrator)."""
    if not setup_link_valid(repositories(request), token):
        return _invalid_link(request)
    return _setup_page(request, token)


@router.post("/installation/{token}")
def setup(
    request: Request,
    token: str,
    email: str = Form(""),
    display_name: str = Form(""),
    password: str = Form(""),
    password_confirm: str = Form(""),
) -> Response:
    """Create the first administrator; the link then no longer works."""
    repos = repositories(request)
    if not setup_link_valid(repos, token):
        return _invalid_link(request)
    if password != password_confirm:
        errors = {"password_confirm": _("Les deux mots de passe diffèrent.")}
        return _setup_page(
            request, token, 422, errors=errors, email=email, display_name=display_name
        )
    try:
        user = complete_setup(
            repos,
            token,
            email=email,
            password=password,
            display_name=display_name,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        return _setup_page(
            request, token, 422, message=str(error), email=email, display_name=display_name
        )
    log_in_session(request, user)
    rotate_csrf(request)
    flash(request, _("Compte administrateur créé : bienvenue."))
    return _see_other("/projets")


# -- projects ---------------------------------------------------------------------------


@router.get("/projets")
def projects(request: Request, user: UserView = Depends(require_user)) -> Response:
    """The projects the user may read."""
    return render(
        request,
        "projects.html",
        projects=projects_for(repositories(request), user),
        can_create=user.role in {"administrateur", "charge_de_mission"},
    )


def _new_project_page(
    request: Request,
    status: int = 200,
    *,
    query: str = "",
    **context: Any,  # noqa: ANN401
) -> Response:
    index = territory_index(request)
    values = {
        "errors": {},
        "message": None,
        "name": "",
        "description": "",
        "territory": "",
    } | context
    return render(
        request,
        "project_new.html",
        status,
        query=query,
        choices=index.search(query) if index is not None and query else [],
        has_reference=index is not None,
        workspace=web_settings(request).workspace_path,
        **values,
    )


@router.get("/projets/nouveau")
def new_project(
    request: Request,
    q: str = "",
    nom: str = "",
    user: UserView = Depends(require_editor),
) -> Response:
    """The form of a new project, with the territories matching ``q`` (no JavaScript)."""
    del user
    return _new_project_page(request, query=q.strip(), name=nom)


@router.get("/territoires")
def territories(
    request: Request, q: str = "", user: UserView = Depends(require_user)
) -> JSONResponse:
    """Territories whose name matches ``q``: ``[{spec, label, kind, communes}]`` (JSON)."""
    del user
    index = territory_index(request)
    found = index.search(q) if index is not None else []
    return JSONResponse(
        [{"spec": c.spec, "label": c.label, "kind": c.kind, "communes": c.communes} for c in found]
    )


@router.post("/projets")
def create(
    request: Request,
    name: str = Form(""),
    territory: str = Form(""),
    description: str = Form(""),
    user: UserView = Depends(require_editor),
) -> Response:
    """Create a project; its creator becomes a member."""
    repos = repositories(request)
    try:
        project = create_project(
            repos,
            name=name,
            territory=territory,
            index=territory_index(request),
            actor=user,
            description=description,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        field = "territory" if "erritoire" in str(error) or "ommune" in str(error) else "name"
        return _new_project_page(
            request,
            422,
            errors={field: str(error)},
            name=name,
            territory=territory,
            description=description,
        )
    flash(request, _("Projet « {name} » créé.", name=project.name))
    return _see_other(f"/projets/{project.id}")


def _project_page(
    request: Request,
    access: ProjectAccess,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Response:
    repos = repositories(request)
    project = access.project
    members = [repos.users.get_user(i) for i in repos.projects.member_ids(project.id)]
    runs = project_runs(request).list_runs(project.id)
    # The latest dossier ready (runs come latest first): the screens' link names it.
    dossier = next((r for r in runs if r.kind == DOSSIER_KIND and r.status == "done"), None)
    values = {"errors": {}, "message": None, "chosen_role": None} | context
    return render(
        request,
        "project.html",
        status,
        project=project,
        editable=access.editable,
        datasets=project_datasets(repos, project.id),
        has_workspace=web_settings(request).workspace_path.exists(),
        dataset_label=dataset_label,
        roles=list(DATASET_ROLES),
        members=members,
        runs=runs,
        dossier=dossier,
        run_kind_label=run_kind_label,
        run_status_label=run_status_label,
        **values,
    )


@router.get("/projets/{project_id}")
def project_home(request: Request, access: ProjectAccess = Depends(project_viewer)) -> Response:
    """The home page of a project: territory, input files, members, runs."""
    return _project_page(request, access)


@router.post("/projets/{project_id}/fichiers")
def upload(
    request: Request,
    role: str = Form(""),
    file: UploadFile = File(...),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Check an input file with the CLI's reader and keep it with the project."""
    settings = web_settings(request)
    content, too_large = read_upload(request, file)
    if too_large is not None:
        return _project_page(request, access, 413, errors={"file": too_large}, chosen_role=role)
    try:
        dataset = upload_dataset(
            repositories(request),
            settings.core,
            access.project.id,
            role=role,
            filename=file.filename or role,
            content=content,
            media_type=file.content_type or "application/octet-stream",
            actor=access.user,
            ip=client_ip(request),
        )
    except (TierslieuxError, ValueError) as error:
        return _project_page(request, access, 422, errors={"file": str(error)}, chosen_role=role)
    flash(
        request,
        _(
            "Fichier « {name} » vérifié et enregistré ({role}).",
            name=dataset.filename,
            role=dataset_label(dataset.role),
        ),
    )
    return _see_other(f"/projets/{access.project.id}")


@router.post("/projets/{project_id}/membres")
def add_project_member(
    request: Request,
    login: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Add a user to the project."""
    try:
        member = add_member(
            repositories(request),
            access.project.id,
            login.strip(),
            actor=access.user,
            ip=client_ip(request),
        )
    except (TierslieuxError, ValueError) as error:
        return _project_page(request, access, 422, errors={"login": str(error)})
    flash(request, _("{name} fait maintenant partie du projet.", name=member.display_name))
    return _see_other(f"/projets/{access.project.id}")


# -- administration -----------------------------------------------------------------------


def _users_page(request: Request, status: int = 200, **context: Any) -> Response:  # noqa: ANN401
    values = {
        "errors": {},
        "message": None,
        "email": "",
        "display_name": "",
        "selected_role": "charge_de_mission",
    } | context
    return render(
        request,
        "users.html",
        status,
        users=list_users(repositories(request)),
        roles=ROLES,
        min_password=MIN_PASSWORD,
        **values,
    )


@router.get("/admin/utilisateurs")
def users(request: Request, user: UserView = Depends(require_admin)) -> Response:
    """Every user and the form to add one."""
    del user
    return _users_page(request)


@router.post("/admin/utilisateurs")
def add_account(
    request: Request,
    email: str = Form(""),
    display_name: str = Form(""),
    role: str = Form("charge_de_mission"),
    password: str = Form(""),
    user: UserView = Depends(require_admin),
) -> Response:
    """Create a user account."""
    try:
        created = add_user(
            repositories(request),
            email,
            role=role,
            actor=user.login,
            password=password,
            display_name=display_name,
            ip=client_ip(request),
        )
    except (TierslieuxError, ValueError) as error:
        return _users_page(
            request,
            422,
            message=str(error),
            email=email,
            display_name=display_name,
            selected_role=role,
        )
    flash(request, _("Compte « {login} » créé.", login=created.login))
    return _see_other("/admin/utilisateurs")


@router.get("/admin/journal")
def audit_log(request: Request, page: int = 1, user: UserView = Depends(require_admin)) -> Response:
    """The audit log, latest first."""
    del user
    if page < 1:
        raise HTTPException(status_code=404)
    repos = repositories(request)
    entries = audit_entries(repos, limit=_AUDIT_PAGE + 1, offset=(page - 1) * _AUDIT_PAGE)
    return render(
        request,
        "audit.html",
        entries=entries[:_AUDIT_PAGE],
        more=len(entries) > _AUDIT_PAGE,
        page=page,
        total=repos.audit.count(),
    )
