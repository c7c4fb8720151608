"""kill -9 of a writer mid-transaction leaves the store consistent and usable.

A child process writes notes, status changes and questionnaire answers as fast as it
can, printing one line per committed write; the parent kills it (SIGKILL) at a random
moment, then checks that the schema is intact, that no acknowledged write is lost,
that no record is half-written (each contact's version is one more than its number of
history events, the events numbered 2..version), and that the store still accepts
writes and a CSV export.  On SQLite, a kill during a large CSV import leaves all of
its events or none.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from conftest import MakeUrl
from sqlalchemy import text
from store_sample import CAE, STRUCTURES

from tierslieux.store import (
    STATUSES,
    Repositories,
    dispose_engine,
    engine_for,
    open_repositories,
    schema_status,
    upgrade,
)

KILLS = 5
STORE_TESTS = str(Path(__file__).parent)

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime

    from store_sample import STRUCTURES
    from tierslieux.model.survey import SurveyResponse, fingerprint
    from tierslieux.store import STATUSES, open_repositories

    store = open_repositories(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    store.structures.upsert_structures(STRUCTURES)
    names = [row["identifiant"] for row in STRUCTURES]
    step = 0
    while True:
        step += 1
        ident = names[step % len(names)]
        kind = step % 3
        tag = f"{sys.argv[2]}-{step}"
        if kind == 0:
            store.contacts.add_note(ident, tag, author="writer")
            print("e", ident, tag, flush=True)
        elif kind == 1:
            status = STATUSES[step % len(STATUSES)]
            store.contacts.set_status(ident, status, author="writer", note=tag)
            print("e", ident, tag, flush=True)
        else:
            answers = {"commune_residence": "05061", "statut": "salarie", "envies": (tag,)}
            report = store.responses.add_responses([
                SurveyResponse(
                    commune="05061",
                    questionnaire_version="1",
                    consent_text="J'accepte",
                    consented_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
                    answers=answers,
                    fingerprint=fingerprint("1", answers),
                    source="kill.csv",
                    line=step,
                )
            ])
            print("r", report.ids[0], flush=True)
    """
)

IMPORTER = textwrap.dedent(
    """
    import sys

    from tierslieux.store import open_repositories

    store = open_repositories(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    report = store.contacts.import_csv(sys.argv[2])
    print("done", report.events_added, flush=True)
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [STORE_TESTS, env.get("PYTHONPATH")]))
    return subprocess.Popen(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_line(stream: IO[str], child: subprocess.Popen[str]) -> str:
    line = stream.readline()
    if not line:
        child.wait(timeout=10)
        assert child.stderr is not None
        pytest.fail(f"the child stopped early:\n{child.stderr.read()}")
    return line.rstrip("\n")


def _start(children: list[subprocess.Popen[str]]) -> None:
    """Wait until every child is ready (started together, so their imports overlap)."""
    for child in children:
        assert child.stdout is not None
        assert _read_line(child.stdout, child) == "ready"


def _go(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def _kill(child: subprocess.Popen[str]) -> list[str]:
    """SIGKILL the child and return the lines it printed but were not read yet."""
    child.send_signal(signal.SIGKILL)
    out, _err = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return out.splitlines()


def _check_records(store: Repositories) -> list[str]:
    """Assert no record is half-written; return the texts of every event."""
    texts: list[str] = []
    for contact in store.contacts.list_contacts(details=True):
        versions = sorted(event.version for event in contact.history)
        assert contact.version == len(contact.history) + 1, contact.identifiant
        assert versions == list(range(2, contact.version + 1)), contact.identifiant
        statuses = [event for event in contact.history if event.kind == "statut"]
        if statuses:
            assert contact.status == max(statuses, key=lambda e: e.version).new_value
        texts.extend(event.text or "" for event in contact.history)
    return texts


def _check_usable(store: Repositories, path: Path, events: int) -> None:
    before = store.contacts.get_contact(CAE).version
    store.contacts.add_note(CAE, "after the kill", author="parent")
    view = store.contacts.set_status(CAE, STATUSES[1], author="parent", note="after")
    assert view.version == before + 2
    report = store.contacts.export_csv(path)
    assert (report.contacts, report.events) == (len(STRUCTURES), events + 2)
    _check_records(store)


def _integrity_ok(url: str) -> None:
    if url.startswith("sqlite"):
        with engine_for(url).connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_kill_during_writes_loses_no_acknowledged_write(make_url: MakeUrl, tmp_path: Path) -> None:
    chance = random.Random(11)  # noqa: S311  (timing only)
    seen: Counter[str] = Counter()
    url = make_url()
    upgrade(url)
    # The same store goes through every kill: each one must leave it usable.
    children = [_spawn(WRITER, url, f"k{attempt}") for attempt in range(KILLS)]
    _start(children)
    events = responses = 0
    for attempt, child in enumerate(children):
        assert child.stdout is not None
        _go(child)
        target = chance.randint(5, 60)
        lines = [_read_line(child.stdout, child) for _ in range(target)]
        time.sleep(chance.uniform(0, 0.03))
        lines += _kill(child)
        acked_events = [line.split()[2] for line in lines if line.startswith("e ")]
        acked_responses = {line.split()[1] for line in lines if line.startswith("r ")}
        seen["kills"] += 1
        seen["commits"] += len(lines)

        assert schema_status(url).up_to_date, attempt
        _integrity_ok(url)
        store = open_repositories(url)
        texts = _check_records(store)
        stored = {r.id for r in store.responses.list_responses()}
        assert set(acked_events) <= set(texts), "an acknowledged event was lost"
        assert acked_responses <= stored, "an acknowledged answer was lost"
        # At most the one write in flight at the kill is there without its ack.
        extra = len(texts) - events - len(acked_events) + len(stored) - responses
        extra -= len(acked_responses)
        assert extra in {0, 1}, extra
        seen["in_flight_committed"] += extra
        _check_usable(store, tmp_path / f"after{attempt}.csv", len(texts))
        events, responses = len(texts) + 2, len(stored)
    dispose_engine(url)
    print(dict(seen))  # shown with pytest -s
    assert seen["commits"] >= KILLS * 5


def _large_import_file(path: Path, events: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "ligne": "evenement",
            "identifiant": STRUCTURES[n % len(STRUCTURES)]["identifiant"],
            "date": (start + timedelta(seconds=n)).isoformat(),
            "auteur": "import",
            "evenement_id": str(uuid.UUID(int=n + 1)),
            "nature": "note",
            "texte": f"imported {n}",
        }
        for n in range(events)
    ]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def _import_store(url: str) -> Repositories:
    upgrade(url)
    store = open_repositories(url)
    store.structures.upsert_structures(STRUCTURES)
    return store


IMPORT_EVENTS = 10_000
IMPORT_KILL_AT = (0.15, 0.35, 0.55, 0.75, 0.9)


def test_kill_during_csv_import_keeps_all_or_nothing(tmp_path: Path) -> None:
    source = tmp_path / "large.csv"
    _large_import_file(source, IMPORT_EVENTS)
    urls = [f"sqlite:///{tmp_path / f'import{n}.sqlite'}" for n in range(len(IMPORT_KILL_AT) + 1)]
    stores = [_import_store(url) for url in urls]
    children = [_spawn(IMPORTER, url, str(source)) for url in urls]
    _start(children)
    # A first import runs to its end: its duration places the kills of the others.
    timed = children[0]
    assert timed.stdout is not None
    began = time.perf_counter()
    _go(timed)
    assert _read_line(timed.stdout, timed) == f"done {IMPORT_EVENTS}"
    duration = time.perf_counter() - began
    timed.communicate(timeout=10)
    outcomes: Counter[str] = Counter()
    for n, (url, store, child) in enumerate(zip(urls, stores, children, strict=True)):
        if n:
            _go(child)
            time.sleep(duration * IMPORT_KILL_AT[n - 1])
            lines = _kill(child)
            assert lines in ([], [f"done {IMPORT_EVENTS}"]), lines
        assert schema_status(url).up_to_date
        _integrity_ok(url)
        texts = _check_records(store)
        assert len(texts) in {0, IMPORT_EVENTS}, len(texts)
        outcomes["all" if texts else "none"] += 1
        _check_usable(store, tmp_path / f"after{n}.csv", len(texts))
        dispose_engine(url)
    print(f"import {duration:.2f} s", dict(outcomes))
