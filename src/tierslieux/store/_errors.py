"""Errors of the operational store, all derived from :class:`tierslieux.errors.StoreError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.errors import StoreError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from datetime import datetime

    from tierslieux.store.views import ImportIssue

__all__ = [
    "ImportRejectedError",
    "InvalidValueError",
    "RunPendingError",
    "StaleRecordError",
    "StaleWriteError",
    "StoreUnavailableError",
    "StoreVersionError",
    "UnknownPersonError",
    "UnknownRecordError",
    "UnknownStatusError",
    "UnknownStructureError",
]

#: How many problems an import error message lists before summarising the rest.
MAX_LISTED_ISSUES = 20


class StaleWriteError(StoreError):
    """A write was based on a version of the contact that someone else has since changed.

    Attributes
    ----------
    identifiant
        The structure whose contact record changed.
    expected_version, current_version
        The version the writer had read and the version now stored.
    changed_by, changed_at
        Author and UTC time of the latest change, when known.
    """

    def __init__(
        self,
        identifiant: str,
        *,
        expected_version: int,
        current_version: int,
        changed_by: str | None,
        changed_at: datetime | None,
    ) -> None:
        self.identifiant = identifiant
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
        if changed_by is not None and changed_at is not None:
            who = _(
                "modifiée par {author} le {when} (UTC)",
                author=changed_by,
                when=changed_at.strftime("%d/%m/%Y à %H:%M:%S"),
            )
        else:
            who = _("modifiée par quelqu'un d'autre")
        super().__init__(
            _(
                "La fiche contact de {identifiant} a été {who} : vous modifiiez la version "
                "{expected}, la version enregistrée est la {current}. Votre modification "
                "n'a pas été enregistrée ; rechargez la fiche puis refaites-la.",
                identifiant=identifiant,
                who=who,
                expected=expected_version,
                current=current_version,
            )
        )


class StaleRecordError(StoreError):
    """A write was based on a version of a record (scenario...) that has since changed.

    Attributes
    ----------
    expected_version, current_version
        The version the writer had read and the version now stored.
    """

    def __init__(self, message: str, *, expected_version: int, current_version: int) -> None:
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(message)


class RunPendingError(StoreError):
    """A run of this kind is already queued or running for the project (one at a time).

    Attributes
    ----------
    run_id
        The id of the run under way.
    """

    def __init__(self, message: str, *, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(message)


class UnknownRecordError(StoreError, LookupError):
    """No user, scenario or run has this identifier."""


class UnknownStatusError(StoreError, ValueError):
    """A contact status is not one of :data:`tierslieux.store.STATUSES`."""


class UnknownStructureError(StoreError, LookupError):
    """No structure with this identifier is in the store."""


class UnknownPersonError(StoreError, LookupError):
    """No contact person matches this identifier or e-mail address."""


class InvalidValueError(StoreError, ValueError):
    """A value given to the store is empty or malformed (author, note, consent basis...)."""


class StoreVersionError(StoreError):
    """The database schema is at a revision this version of tierslieux does not know."""


class StoreUnavailableError(StoreError, OSError):
    """The database cannot be reached or opened."""


class ImportRejectedError(StoreError, ValueError):
    """A CSV import found invalid rows; nothing was written.

    Attributes
    ----------
    issues
        Every problem found, with its line number in the file.
    """

    def __init__(self, path: object, issues: tuple[ImportIssue, ...]) -> None:
        self.issues = issues
        listed = [
            _("{where} : {message}", where=issue.where(), message=issue.message)
            for issue in issues[:MAX_LISTED_ISSUES]
        ]
        if len(issues) > MAX_LISTED_ISSUES:
            listed.append(_("… et {n} autres problèmes.", n=len(issues) - MAX_LISTED_ISSUES))
        super().__init__(
            _(
                "Import de {path} refusé, rien n'a été enregistré ({n} problème(s)) ; "
                "corrigez le fichier ou importez seulement les lignes valides "
                "(import partiel) :\n{details}",
                path=path,
                n=len(issues),
                details="\n".join(listed),
            )
        )
