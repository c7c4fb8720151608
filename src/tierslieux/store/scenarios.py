"""Repository of saved scenarios (table ``scenarios``).

A scenario is a named territory (``dep:05``, ``epci:200067825``...) with the
parameters of a study (JSON object).  Each change increments its ``version``; a write
that names the version it was based on is refused with
:class:`~tierslieux.store.StaleRecordError` when someone changed it meanwhile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, insert, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, StaleRecordError, UnknownRecordError
from tierslieux.store._schema import Base

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy import Connection

    from tierslieux.store.database import Database

__all__ = ["ScenarioRepository", "ScenarioView", "decode_json", "encode_json"]

SCENARIOS = Base.metadata.tables["scenarios"]
_MAX_SHORT = 200


def encode_json(value: Mapping[str, Any] | None, *, field: str) -> str:
    """Serialise a JSON object (sorted keys, UTF-8 kept), refusing what JSON cannot hold.

    Raises
    ------
    InvalidValueError
        When ``value`` is not JSON-serialisable.
    """
    try:
        return json.dumps(dict(value or {}), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(
            _("{field} : valeur non enregistrable en JSON ({error}).", field=field, error=error)
        ) from error


def decode_json(text: str | None) -> dict[str, Any]:
    """Read back a JSON object written by :func:`encode_json` (``{}`` for ``None``)."""
    if text is None:
        return {}
    value: dict[str, Any] = json.loads(text)
    return value


@dataclass(frozen=True, slots=True)
class ScenarioView:
    """A saved scenario: name, territory, parameters, author and version."""

    id: int
    name: str
    territory: str
    parameters: dict[str, Any]
    author: str
    created_at: datetime
    updated_at: datetime
    updated_by: str
    version: int


def _scenario_from_row(row: Row[Any]) -> ScenarioView:
    return ScenarioView(
        id=row.id,
        name=row.name,
        territory=row.territory,
        parameters=decode_json(row.parameters),
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        version=row.version,
    )


def _short(value: str, *, label: str) -> str:
    cleaned = records.clean(value)
    if cleaned is None:
        raise InvalidValueError(_("{field} est obligatoire.", field=label))
    if len(cleaned) > _MAX_SHORT:
        raise InvalidValueError(
            _("{field} trop long (plus de {n} caractères).", field=label, n=_MAX_SHORT)
        )
    return cleaned


def _unknown(scenario_id: int) -> UnknownRecordError:
    return UnknownRecordError(_("Aucun scénario n° {id}.", id=scenario_id))


class ScenarioRepository:
    """Saved scenarios of the web application, with a stale-write check."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def save_scenario(
        self,
        name: str,
        territory: str,
        parameters: Mapping[str, Any] | None,
        *,
        author: str,
    ) -> ScenarioView:
        """Create a scenario (version 1).

        Raises
        ------
        InvalidValueError
            When the name, territory or author is empty or too long, or the parameters
            are not a JSON object.
        """
        values = {
            "name": _short(name, label=_("Le nom du scénario")),
            "territory": _short(territory, label=_("Le territoire")),
            "parameters": encode_json(parameters, field=_("paramètres")),
        }
        author = records.check_author(author)
        moment = records.now()
        with self._database.transaction(write=True) as connection:
            result = connection.execute(
                insert(SCENARIOS).values(
                    **values,
                    author=author,
                    updated_by=author,
                    created_at=moment,
                    updated_at=moment,
                    version=1,
                )
            )
            key = result.inserted_primary_key
            if key is None:  # pragma: no cover - both backends return the new id
                msg = "no id returned for the new scenario"
                raise RuntimeError(msg)
            return self._read(connection, int(key[0]))

    def get_scenario(self, scenario_id: int) -> ScenarioView:
        """Return a scenario.

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=False) as connection:
            return self._read(connection, scenario_id)

    def list_scenarios(self, *, author: str | None = None) -> list[ScenarioView]:
        """Return the scenarios (of ``author`` only, when given), most recent first."""
        query = select(SCENARIOS).order_by(SCENARIOS.c.updated_at.desc(), SCENARIOS.c.id.desc())
        if author is not None:
            query = query.where(SCENARIOS.c.author == author)
        with self._database.transaction(write=False) as connection:
            return [_scenario_from_row(row) for row in connection.execute(query)]

    def update_scenario(
        self,
        scenario_id: int,
        *,
        author: str,
        expected_version: int | None = None,
        name: str | None = None,
        territory: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> ScenarioView:
        """Change a scenario's name, territory or parameters (``None`` keeps a field).

        Parameters
        ----------
        expected_version
            The version the change is based on; refused when it is no longer the
            stored one.  ``None`` applies the change on top of the latest version.

        Raises
        ------
        UnknownRecordError, StaleRecordError, InvalidValueError
        """
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _short(name, label=_("Le nom du scénario"))
        if territory is not None:
            values["territory"] = _short(territory, label=_("Le territoire"))
        if parameters is not None:
            values["parameters"] = encode_json(parameters, field=_("paramètres"))
        author = records.check_author(author)
        with self._database.transaction(write=True) as connection:
            row = connection.execute(
                select(SCENARIOS.c.version, SCENARIOS.c.updated_by, SCENARIOS.c.updated_at)
                .where(SCENARIOS.c.id == scenario_id)
                .with_for_update()
            ).one_or_none()
            if row is None:
                raise _unknown(scenario_id)
            if expected_version is not None and expected_version != row.version:
                raise StaleRecordError(
                    _(
                        "Le scénario n° {id} a été modifié par {author} le {when} (UTC) : "
                        "vous modifiiez la version {expected}, la version enregistrée est "
                        "la {current}. Votre modification n'a pas été enregistrée ; "
                        "rechargez le scénario puis refaites-la.",
                        id=scenario_id,
                        author=row.updated_by,
                        when=row.updated_at.strftime("%d/%m/%Y à %H:%M:%S"),
                        expected=expected_version,
                        current=row.version,
                    ),
                    expected_version=expected_version,
                    current_version=row.version,
                )
            if values:
                connection.execute(
                    update(SCENARIOS)
                    .where(SCENARIOS.c.id == scenario_id, SCENARIOS.c.version == row.version)
                    .values(
                        **values,
                        version=row.version + 1,
                        updated_at=records.now(),
                        updated_by=author,
                    )
                )
            return self._read(connection, scenario_id)

    def delete_scenario(self, scenario_id: int) -> None:
        """Delete a scenario (its runs are kept, no longer linked to it).

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=True) as connection:
            result = connection.execute(delete(SCENARIOS).where(SCENARIOS.c.id == scenario_id))
            if not result.rowcount:
                raise _unknown(scenario_id)

    @staticmethod
    def _read(connection: Connection, scenario_id: int) -> ScenarioView:
        row = connection.execute(
            select(SCENARIOS).where(SCENARIOS.c.id == scenario_id)
        ).one_or_none()
        if row is None:
            raise _unknown(scenario_id)
        return _scenario_from_row(row)
