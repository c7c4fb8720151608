"""Repository of the directory of structures (table ``structures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store._errors import ImportRejectedError
from tierslieux.store._records import CONTACTS, STRUCTURES, chunks, now
from tierslieux.store.views import DEFAULT_STATUS, ImportIssue, UpsertReport

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tierslieux.store.database import Database

__all__ = ["StructureRepository"]

_STRUCTURE_FIELDS = ("nom", "categorie", "code_commune", "themes", "source")
_FIELD_LIMITS = {"identifiant": 200, "categorie": 64, "code_commune": 10, "source": 200}


def _validate(rows: Iterable[Mapping[str, str]]) -> dict[str, dict[str, str]]:
    wanted: dict[str, dict[str, str]] = {}
    issues: list[ImportIssue] = []
    for line, row in enumerate(rows, start=2):
        values = {name: (row.get(name) or "").strip() for name in _STRUCTURE_FIELDS}
        identifiant = (row.get("identifiant") or "").strip()
        if not identifiant:
            issues.append(ImportIssue(line, _("identifiant de structure manquant")))
            continue
        if not values["nom"]:
            issues.append(ImportIssue(line, _("nom de structure manquant")))
        issues.extend(
            ImportIssue(
                line, _("{column} trop long (plus de {n} caractères)", column=name, n=limit)
            )
            for name, limit in _FIELD_LIMITS.items()
            if len(identifiant if name == "identifiant" else values[name]) > limit
        )
        wanted[identifiant] = values
    if issues:
        raise ImportRejectedError(_("l'annuaire des structures"), tuple(issues))
    return wanted


class StructureRepository:
    """The directory of structures: each one gets a contact record when it appears."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def upsert_structures(self, rows: Iterable[Mapping[str, str]]) -> UpsertReport:
        """Insert new structures and update changed ones (``structures.csv`` rows).

        Idempotent: the same rows twice change nothing the second time.  Structures
        absent from ``rows`` are kept (their contact history must survive), and each
        new structure gets a contact record with status ``a_contacter``.

        Parameters
        ----------
        rows
            Mappings with ``identifiant`` and ``nom`` (required) and ``categorie``,
            ``code_commune``, ``themes``, ``source``; other keys are ignored.  Row
            ``k`` (from 0) is reported as line ``k + 2``, as in a CSV with a header.

        Returns
        -------
        UpsertReport
            Counts of inserted, updated and unchanged structures.

        Raises
        ------
        ImportRejectedError
            When a row lacks an identifier or a name, or a value is too long; nothing
            is written.
        """
        wanted = _validate(rows)
        moment = now()
        inserted: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        unchanged = 0
        with self._database.transaction(write=True) as connection:
            existing: dict[str, tuple[str, ...]] = {}
            columns = [STRUCTURES.c[name] for name in _STRUCTURE_FIELDS]
            for chunk in chunks(sorted(wanted)):
                query = select(STRUCTURES.c.identifiant, *columns).where(
                    STRUCTURES.c.identifiant.in_(chunk)
                )
                existing.update((row[0], tuple(row[1:])) for row in connection.execute(query))
            for identifiant, values in wanted.items():
                stored = existing.get(identifiant)
                if stored is None:
                    inserted.append(
                        {
                            "identifiant": identifiant,
                            **values,
                            "created_at": moment,
                            "updated_at": moment,
                        }
                    )
                elif stored != tuple(values[name] for name in _STRUCTURE_FIELDS):
                    changed.append({"b_identifiant": identifiant, **values, "updated_at": moment})
                else:
                    unchanged += 1
            if inserted:
                connection.execute(insert(STRUCTURES), inserted)
                connection.execute(
                    insert(CONTACTS),
                    [
                        {"identifiant": row["identifiant"], "status": DEFAULT_STATUS, "version": 1}
                        for row in inserted
                    ],
                )
            if changed:
                connection.execute(
                    update(STRUCTURES).where(
                        STRUCTURES.c.identifiant == bindparam("b_identifiant")
                    ),
                    changed,
                )
        return UpsertReport(inserted=len(inserted), updated=len(changed), unchanged=unchanged)
