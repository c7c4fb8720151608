"""Benchmark: contact-store writes per second on SQLite and PostgreSQL.

Each write is one public call of the contact repository (``set_status`` with a note,
or ``add_note``), that is one transaction: row lock, guarded version update, one
history event, then the record re-read with its history.  Also measured: opening the
store through the contacts use case (``pipeline.database.open_store``) the first time
in the process (schema check, here an upgrade of an empty database) and then again
(engine reused, no check).  SQLite runs in WAL mode with ``synchronous=FULL``
(every commit reaches the disk).  Run::

    .venv/bin/python bench/bench_store.py [--writes 1000] [--structures 50]

PostgreSQL is the server on 127.0.0.1:5432 (database ``test``, user ``postgres`` or
``root``), in a throw-away schema; it is skipped with a message when absent.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, exc, text

from tierslieux.config import Settings
from tierslieux.pipeline.database import open_store
from tierslieux.store import STATUSES, Repositories, dispose_engine, open_repositories, upgrade
from tierslieux.store._engine import create_store_engine, migrate

PG_URLS = [f"postgresql+psycopg://{user}@127.0.0.1:5432/test" for user in ("postgres", "root")]


def _structures(count: int) -> list[dict[str, str]]:
    return [
        {"identifiant": f"siret:{index:014d}", "nom": f"Structure {index}", "code_commune": "05061"}
        for index in range(count)
    ]


def _writes(store: Repositories, ids: list[str], count: int, seed: int) -> None:
    rng = random.Random(seed)
    for step in range(count):
        identifiant = rng.choice(ids)
        if step % 2:
            store.contacts.add_note(identifiant, f"note {seed}-{step}", author=f"agent{seed}")
        else:
            store.contacts.set_status(
                identifiant, rng.choice(STATUSES), author=f"agent{seed}", note=f"n{step}"
            )


def _measure(store: Repositories, ids: list[str], writes: int, writers: int) -> float:
    per_writer = writes // writers
    threads = [
        threading.Thread(target=_writes, args=(store, ids, per_writer, seed))
        for seed in range(writers)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_writer * writers / (time.perf_counter() - start)


def _one(label: str, url: str, args: argparse.Namespace, writers: int) -> None:
    upgrade(url)
    store = open_repositories(url)
    try:
        rows = _structures(args.structures)
        store.structures.upsert_structures(rows)
        ids = [row["identifiant"] for row in rows]
        _writes(store, ids, 20, seed=99)  # warm-up: connection pool, statement caches
        rate = _measure(store, ids, args.writes, writers)
        events = sum(len(view.history) for view in store.contacts.list_contacts(details=True))
    finally:
        dispose_engine(url)
    print(f"{label:<11} {writers} writer(s): {rate:8.0f} writes/s  ({events} events stored)")


def _opening(folder: Path, repeats: int = 200) -> None:
    url = f"sqlite:///{folder / 'opening.sqlite'}"
    settings = Settings(offline=True, cache_dir=folder / "cache", database_url=url)
    try:
        start = time.perf_counter()
        open_store(settings)
        first = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(repeats):
            open_store(settings)
        again = (time.perf_counter() - start) / repeats
        start = time.perf_counter()
        for _ in range(repeats // 10):
            # What every contact_store() call did before: a new engine and a migration check.
            engine = create_store_engine(url)
            migrate(engine)
            engine.dispose()
        before = (time.perf_counter() - start) / (repeats // 10)
    finally:
        dispose_engine(url)
    print(
        f"open_store: first in process {first * 1000:.1f} ms (empty database upgraded), "
        f"then {again * 1e6:.0f} µs per call (engine reused, no migration); "
        f"new engine + migration check per call (before): {before * 1000:.1f} ms"
    )


def _pg_base() -> str | None:
    for url in PG_URLS:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except exc.OperationalError:
            continue
        finally:
            engine.dispose()
        return url
    return None


def main() -> None:
    """Parse the options, run both backends and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000, help="writes per measurement")
    parser.add_argument("--structures", type=int, default=50, help="structures written to")
    args = parser.parse_args()
    print(f"{args.writes} writes over {args.structures} structures per measurement")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _opening(folder)
        for writers in (1, 4):
            _one("SQLite", f"sqlite:///{folder / f'bench{writers}.sqlite'}", args, writers)
        base = _pg_base()
        if base is None:
            print("PostgreSQL absent sur 127.0.0.1:5432 : mesure du mode serveur ignorée")
            return
        admin = create_engine(base)
        try:
            for writers in (1, 4):
                schema = f"bench_{uuid.uuid4().hex}"
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    url = f"{base}?options=-csearch_path%3D{schema}"
                    _one("PostgreSQL", url, args, writers)
                finally:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        finally:
            admin.dispose()


if __name__ == "__main__":
    main()
