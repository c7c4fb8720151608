"""The contacts screens of a project: the list, one contact's page, import and export.

The contact records are those of the structures of the project's directory (see
:mod:`tierslieux.web.communities`), changed through the use cases of
:mod:`tierslieux.pipeline.contacts` (the ``tierslieux contacts`` commands).

Concurrent edits: every form carries the ``version`` of the record it was read at and
the store refuses a change based on an older one
(:class:`~tierslieux.pipeline.contacts.StaleWriteError`); the page then answers 409
with both versions (the colleague's changes since yours: who, when, what; and your
values, kept in the form) and a button that re-applies yours on the latest version.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import N_, format_date
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import category_short_labels
from tierslieux.pipeline.accounts import audit
from tierslieux.pipeline.contacts import (
    STATUSES,
    ImportRejectedError,
    StaleWriteError,
    UnknownStructureError,
    add_note,
    export_contacts,
    import_contacts,
    parse_day,
    set_next_action,
    set_owner,
    set_status,
    show_contact,
    status_labels,
)
from tierslieux.pipeline.project_communities import openness_label, project_contact_page
from tierslieux.web.auth import (
    ProjectAccess,
    client_ip,
    project_editor,
    project_viewer,
    repositories,
)
from tierslieux.web.communities import PAGE_ROWS, contact_url, directory_of
from tierslieux.web.rendering import flash, render
from tierslieux.web.routes import territory_index
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from tierslieux.config import Settings
    from tierslieux.pipeline.contacts import ContactView, EventView
    from tierslieux.pipeline.project_communities import Directory

__all__ = ["router"]

router = APIRouter()
_EXPORT_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _directory(request: Request, access: ProjectAccess) -> Directory | None:
    return directory_of(request, access.project.id)


def _names(request: Request) -> dict[str, str]:
    index = territory_index(request)
    return dict(index.commune_names) if index is not None else {}


# -- list ---------------------------------------------------------------------------------


@router.get("/projets/{project_id}/contacts")
def contacts_page(
    request: Request,
    statut: str = "",
    responsable: str = "",
    commune: str = "",
    echeance_avant: str = "",
    page: int = 1,
    access: ProjectAccess = Depends(project_viewer),
) -> Response:
    """The contact records of the project's structures, with the CLI's filters."""
    directory = _directory(request, access)
    context: dict[str, Any] = {
        "project": access.project,
        "editable": access.editable,
        "directory": directory,
        "statuses": status_labels(),
        "chosen": {
            "statut": statut,
            "responsable": responsable,
            "commune": commune,
            "echeance_avant": echeance_avant,
        },
        "errors": {},
        "contact_url": contact_url,
    }
    if directory is None:
        return render(request, "contacts.html", **context)
    try:
        due = parse_day(echeance_avant, option="echeance_avant") if echeance_avant else None
        status = 200
    except TierslieuxError as error:
        due, status = None, 422
        context["errors"] = {"echeance_avant": str(error)}
    listing = project_contact_page(
        web_settings(request).core,
        directory,
        page=page,
        rows=PAGE_ROWS,
        status=statut if statut in STATUSES else None,
        owner=responsable or None,
        commune=commune or None,
        due_before=due,
    )
    query = urlencode({k: v for k, v in context["chosen"].items() if v})
    if status != 200:  # the filters are refused: no record shown
        listing = replace(listing, contacts=[], shown=0, page=1, pages=1)
    context |= {
        "contacts": listing.contacts,
        "shown": listing.shown,
        "page": listing.page,
        "pages": listing.pages,
        "query": query,
        "total": listing.total,
        "owners": listing.owners,
        "communes": directory.communes(),
        "commune_of": directory.commune_of(),
        "categories": category_short_labels(),
    }
    return render(request, "contacts.html", status, **context)


# -- export and import ------------------------------------------------------------------


@router.get("/projets/{project_id}/contacts/export")
def export(
    request: Request,
    file_format: str = Query("csv", alias="format"),
    access: ProjectAccess = Depends(project_viewer),
) -> Response:
    """The project's contact records and history as a CSV (French Excel) or XLSX file."""
    kind = file_format if file_format in _EXPORT_MEDIA else "csv"
    directory = _directory(request, access)
    identifiants = set(directory.structures["identifiant"]) if directory is not None else set()
    with tempfile.TemporaryDirectory(prefix="tierslieux-export-") as folder:
        path = Path(folder) / f"contacts.{kind}"
        export_contacts(
            web_settings(request).core,
            path,
            file_format=kind,
            names=_names(request),
            identifiants=identifiants,
        )
        content = path.read_bytes()
    name = f"contacts-projet-{access.project.id}.{kind}"
    return Response(
        content,
        media_type=_EXPORT_MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/projets/{project_id}/contacts/import")
def import_file(
    request: Request,
    file: UploadFile = File(...),
    ecraser: str = Form(""),
    partiel: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Import a contacts file (CSV or XLSX as exported, possibly edited in Excel)."""
    settings = web_settings(request)
    content = file.file.read(settings.max_upload_bytes + 1)
    suffix = PurePath(file.filename or "contacts.csv").suffix.lower()
    suffix = suffix if suffix in {".csv", ".xlsx"} else ".csv"
    context: dict[str, Any] = {
        "project": access.project,
        "filename": file.filename or "",
        "report": None,
        "issues": (),
        "message": None,
        "contact_url": contact_url,
    }
    status = 200
    directory = _directory(request, access)
    among = directory.identifiants() if directory is not None else frozenset()
    with tempfile.TemporaryDirectory(prefix="tierslieux-import-") as folder:
        path = Path(folder) / f"contacts{suffix}"
        path.write_bytes(content)
        try:
            report = import_contacts(
                settings.core,
                path,
                partial=bool(partiel),
                force=bool(ecraser),
                author=access.user.login,
                among=among,
            )
        except ImportRejectedError as error:
            context |= {"issues": error.issues, "message": str(error).split("\n", 1)[0]}
            status = 422
        except TierslieuxError as error:
            context["message"] = str(error)
            status = 422
        else:
            context["report"] = report
            audit(
                repositories(request),
                actor=access.user.login,
                action="contacts.import",
                target=f"projet:{access.project.id}",
                details={
                    "fichier": file.filename,
                    "changements": report.changes_applied,
                    "evenements": report.events_added,
                    "conflits": len(report.conflicts),
                },
                ip=client_ip(request),
            )
    return render(request, "contacts_import.html", status, **context)


# -- one contact -------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """A change refused because the record changed since the form was read.

    ``form`` names the form (``statut``, ``note``, ``action``, ``responsable``);
    ``yours`` the values sent; ``theirs`` the history events written since
    ``read_version``; ``current`` the record now.
    """

    form: str
    yours: dict[str, str]
    read_version: int
    current: ContactView
    theirs: tuple[EventView, ...] = field(default_factory=tuple)


def _structure(request: Request, access: ProjectAccess, identifiant: str) -> dict[str, Any]:
    """The directory's row of the structure (404 outside the project's directory)."""
    directory = _directory(request, access)
    row = directory.structure(identifiant) if directory is not None else None
    if row is None:
        raise HTTPException(
            status_code=404, detail=_("Cette structure n'est pas dans l'annuaire du projet.")
        )
    return row


def _contact(
    request: Request, access: ProjectAccess, identifiant: str
) -> tuple[ContactView, dict[str, Any] | None]:
    row = _structure(request, access, identifiant)
    try:
        return show_contact(web_settings(request).core, identifiant), row
    except UnknownStructureError:
        raise HTTPException(status_code=404, detail=_("Fiche contact introuvable.")) from None


def _event_text(event: EventView) -> str:
    """What a history event changed, in words."""
    labels = status_labels()
    if event.kind == "statut":
        text = _(
            "{old} → {new}",
            old=labels.get(event.old_value or "", event.old_value or "—"),
            new=labels.get(event.new_value or "", event.new_value or "—"),
        )
        return f"{text} — {event.text}" if event.text else text
    if event.kind == "prochaine_action":
        old = " ".join(x for x in (event.old_value or "", format_date(event.old_date)) if x)
        new = " ".join(x for x in (event.new_value or "", format_date(event.new_date)) if x)
        return _("{old} → {new}", old=old or "—", new=new or "—")
    if event.kind == "responsable":
        return _("{old} → {new}", old=event.old_value or "—", new=event.new_value or "—")
    return event.text or ""


def _contact_page(
    request: Request,
    access: ProjectAccess,
    identifiant: str,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Response:
    contact, row = _contact(request, access, identifiant)
    values = {"errors": {}, "conflict": None, "yours": {}} | context
    conflict: Conflict | None = values["conflict"]
    if conflict is not None:
        contact = conflict.current
    return render(
        request,
        "contact.html",
        status,
        project=access.project,
        editable=access.editable,
        contact=contact,
        structure=row,
        history=list(reversed(contact.history)),
        statuses=status_labels(),
        event_text=_event_text,
        openness_label=openness_label,
        categories=category_short_labels(),
        action_url=contact_url(access.project.id, identifiant),
        **values,
    )


@router.get("/projets/{project_id}/contacts/{identifiant}")
def contact_page(
    request: Request, identifiant: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """One contact record: state, history, and the forms of the chargé de mission."""
    return _contact_page(request, access, identifiant)


def _version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise HTTPException(status_code=422, detail=_("Version de la fiche manquante.")) from None


def _due(text: str) -> date | None:
    return parse_day(text, option="echeance") if text.strip() else None


@dataclass(frozen=True)
class _Form:
    """A change form of the contact page: its fields, its use case, its message."""

    fields: tuple[str, ...]
    #: ``apply(core, identifiant, values, author, read_version)``
    apply: Callable[[Settings, str, dict[str, str], str, int], ContactView]
    done: str


_FORMS: dict[str, _Form] = {
    "statut": _Form(
        ("statut", "note"),
        lambda core, ident, v, author, read: set_status(
            core, ident, v["statut"], author=author, expected_version=read, note=v["note"] or None
        ),
        N_("Statut enregistré."),
    ),
    "note": _Form(
        ("texte",),
        lambda core, ident, v, author, read: add_note(
            core, ident, v["texte"], author=author, expected_version=read
        ),
        N_("Note ajoutée."),
    ),
    "action": _Form(
        ("action", "echeance"),
        lambda core, ident, v, author, read: set_next_action(
            core,
            ident,
            v["action"] or None,
            _due(v["echeance"]),
            author=author,
            expected_version=read,
        ),
        N_("Prochaine action enregistrée."),
    ),
    "responsable": _Form(
        ("responsable",),
        lambda core, ident, v, author, read: set_owner(
            core, ident, v["responsable"] or None, author=author, expected_version=read
        ),
        N_("Responsable enregistré."),
    ),
}


def _change(
    request: Request,
    access: ProjectAccess,
    identifiant: str,
    form: str,
    version: str,
    **yours: str,
) -> Response:
    """Apply the form ``form`` (:data:`_FORMS`) read at ``version``; the page again
    with both versions (409) when the record changed since, or with the field's error
    (422); else the contact page, the change audited."""
    read = _version(version)
    _structure(request, access, identifiant)  # 404 outside the project's directory
    spec = _FORMS[form]
    try:
        contact = spec.apply(
            web_settings(request).core, identifiant, yours, access.user.login, read
        )
    except StaleWriteError:
        current = show_contact(web_settings(request).core, identifiant)
        theirs = tuple(e for e in current.history if e.version > read)
        conflict = Conflict(form, yours, read, current, theirs)
        return _contact_page(
            request, access, identifiant, 409, conflict=conflict, yours={form: yours}
        )
    except TierslieuxError as error:
        return _contact_page(
            request, access, identifiant, 422, errors={form: str(error)}, yours={form: yours}
        )
    audit(
        repositories(request),
        actor=access.user.login,
        action=f"contact.{form}",
        target=identifiant,
        details={"projet": access.project.id, "version": contact.version, **yours},
        ip=client_ip(request),
    )
    flash(request, _(spec.done))
    return RedirectResponse(contact_url(access.project.id, identifiant), status_code=303)


@router.post("/projets/{project_id}/contacts/{identifiant}/statut")
def change_status(
    request: Request,
    identifiant: str,
    statut: str = Form(""),
    note: str = Form(""),
    version: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Change the status (with an optional note)."""
    return _change(request, access, identifiant, "statut", version, statut=statut, note=note)


@router.post("/projets/{project_id}/contacts/{identifiant}/note")
def write_note(
    request: Request,
    identifiant: str,
    texte: str = Form(""),
    version: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Add a dated note to the history."""
    return _change(request, access, identifiant, "note", version, texte=texte)


@router.post("/projets/{project_id}/contacts/{identifiant}/action")
def change_next_action(
    request: Request,
    identifiant: str,
    action: str = Form(""),
    echeance: str = Form(""),
    version: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Set (or clear, both fields empty) the next action and its date."""
    return _change(
        request, access, identifiant, "action", version, action=action, echeance=echeance
    )


@router.post("/projets/{project_id}/contacts/{identifiant}/responsable")
def change_owner(
    request: Request,
    identifiant: str,
    responsable: str = Form(""),
    version: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Set (or clear) the person in charge of the contact."""
    return _change(request, access, identifiant, "responsable", version, responsable=responsable)
