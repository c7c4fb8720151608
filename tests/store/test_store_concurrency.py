"""Several writers on the same structure: no change lost, stale writes refused."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine
from store_sample import CAE

from tierslieux.store import STATUSES, Repositories, StaleWriteError

THREADS = 8
WRITES = 25


def _run_together(count: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(count)

    def start(index: int) -> object:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def test_concurrent_writers_lose_no_event(store: Repositories) -> None:
    def writer(thread: int) -> None:
        for step in range(WRITES):
            text = f"t{thread}-{step}"
            if step % 2:
                store.contacts.add_note(CAE, text, author=f"agent{thread}")
            else:
                status = STATUSES[(thread + step) % len(STATUSES)]
                store.contacts.set_status(CAE, status, author=f"agent{thread}", note=text)

    _run_together(THREADS, writer)
    view = store.contacts.get_contact(CAE)
    total = THREADS * WRITES
    assert len(view.history) == total
    assert view.version == total + 1
    assert sorted(event.version for event in view.history) == list(range(2, total + 2))
    assert {event.text for event in view.history} == {
        f"t{thread}-{step}" for thread in range(THREADS) for step in range(WRITES)
    }
    # Each status event starts from the status the previous one left.
    statuses = sorted(
        (event for event in view.history if event.kind == "statut"), key=lambda e: e.version
    )
    for before, after in itertools.pairwise(statuses):
        assert after.old_value == before.new_value
    assert view.status == statuses[-1].new_value


def test_only_one_of_concurrent_stale_writers_wins(store: Repositories) -> None:
    seen = store.contacts.get_contact(CAE).version

    def writer(thread: int) -> str:
        try:
            store.contacts.set_status(
                CAE, "interesse", author=f"agent{thread}", expected_version=seen, note=f"t{thread}"
            )
        except StaleWriteError:
            return "refusé"
        return "écrit"

    outcomes = _run_together(THREADS, writer)
    assert outcomes.count("écrit") == 1
    assert outcomes.count("refusé") == THREADS - 1
    view = store.contacts.get_contact(CAE)
    assert (view.version, len(view.history)) == (seen + 1, 1)


def test_sqlite_writer_waits_for_the_lock_instead_of_failing(tmp_path) -> None:
    from store_sample import STRUCTURES  # noqa: PLC0415

    from tierslieux.store import dispose_engine, open_repositories, upgrade  # noqa: PLC0415

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    upgrade(url)
    store = open_repositories(url)
    other = create_engine(url)  # another process's connection
    try:
        store.structures.upsert_structures(STRUCTURES)
        holder = other.raw_connection()
        holder.cursor().execute("BEGIN IMMEDIATE")  # another process holding the write lock
        timer = threading.Timer(0.5, holder.commit)
        timer.start()
        view = store.contacts.add_note(CAE, "écrit après l'attente", author="bob")
        timer.join()
        holder.close()
        assert view.version == 2
    finally:
        other.dispose()
        dispose_engine(url)


def test_sqlite_writers_of_one_process_queue_on_one_lock(tmp_path) -> None:
    """Writers of a process take turns on a lock before SQLite's (no busy_timeout
    polling between threads: the bench of the public form had 1 s waits at p95)."""
    from store_sample import STRUCTURES  # noqa: PLC0415

    from tierslieux.store import dispose_engine, open_repositories, upgrade  # noqa: PLC0415
    from tierslieux.store._engine import engine_for, write_lock  # noqa: PLC0415

    url = f"sqlite:///{tmp_path / 'q.sqlite'}"
    upgrade(url)
    store = open_repositories(url)
    try:
        store.structures.upsert_structures(STRUCTURES)
        lock = write_lock(engine_for(url))
        assert lock is not None
        assert write_lock(engine_for(url)) is lock  # one per engine
        done = threading.Event()
        with lock:  # a writer of this process holds its turn
            worker = threading.Thread(
                target=lambda: (store.contacts.add_note(CAE, "après", author="b"), done.set())
            )
            worker.start()
            assert not done.wait(0.3)  # waits its turn
            with lock:  # re-entrant: the same thread may nest a write as before
                pass
        assert done.wait(10)
        worker.join()
        assert store.contacts.get_contact(CAE).version == 2
    finally:
        dispose_engine(url)
