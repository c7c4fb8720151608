"""Alembic environment of the operational store.

:func:`tierslieux.store._engine.migrate` runs it with an open connection (in
``config.attributes["connection"]``) inside the transaction that holds the whole
upgrade.  For maintainers, ``alembic -x url=sqlite:///tmp.db revision --autogenerate``
works too, with a configuration whose ``script_location`` is this folder.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from tierslieux.store._schema import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transactional_ddl=True,  # the caller opened the transaction, also on SQLite
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_given = context.config.attributes.get("connection")
if isinstance(_given, Connection):
    _run(_given)
else:
    _url = context.get_x_argument(as_dictionary=True).get("url")
    if not _url:
        _msg = "pass a connection in config.attributes or -x url=..."
        raise SystemExit(_msg)
    with create_engine(_url).begin() as _connection:
        _run(_connection)
