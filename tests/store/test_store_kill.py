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

import contextlib
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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

# One child process per test imports the package once (a second or more), then forks
# one writer per order read on its stdin: each writer is a separate process, killed
# with SIGKILL; the child reports its end on stdout after the writer's own lines.
CHILD = textwrap.dedent(
    """
    import os
    import sys
    from datetime import UTC, datetime

    from store_sample import STRUCTURES
    from tierslieux.model.survey import SurveyResponse, fingerprint
    from tierslieux.store import STATUSES, open_repositories


    def write(url, prefix):
        store = open_repositories(url)
        store.structures.upsert_structures(STRUCTURES)
        names = [row["identifiant"] for row in STRUCTURES]
        step = 0
        while True:
            step += 1
            ident = names[step % len(names)]
            tag = f"{prefix}-{step}"
            if step % 3 == 0:
                store.contacts.add_note(ident, tag, author="writer")
                print("e", ident, tag, flush=True)
            elif step % 3 == 1:
                status = STATUSES[step % len(STATUSES)]
                store.contacts.set_status(ident, status, author="writer", note=tag)
                print("e", ident, tag, flush=True)
            else:
                answers = {"commune_residence": "05061", "statut": "salarie", "envies": (tag,)}
                response = SurveyResponse(
                    commune="05061",
                    questionnaire_version="1",
                    consent_text="J'accepte",
                    consented_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
                    answers=answers,
                    fingerprint=fingerprint("1", answers),
                    source="kill.csv",
                    line=step,
                )
                report = store.responses.add_responses([response])
                print("r", report.ids[0], flush=True)


    def load(url, path):
        store = open_repositories(url)
        print("start", flush=True)
        report = store.contacts.import_csv(path)
        print("done", report.events_added, flush=True)


    print("ready", flush=True)
    for order in sys.stdin:
        task, *args = order.rstrip("\\n").split("\\t")
        pid = os.fork()
        if pid == 0:
            try:
                print("pid", os.getpid(), flush=True)
                (write if task == "write" else load)(*args)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        print("ended", flush=True)
    """
)


class Child:
    """The child process and the writer it forked last."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [STORE_TESTS, env.get("PYTHONPATH")]))
        # The child's errors go to a file, not a pipe: a pipe nobody reads until the end
        # fills up (64 KiB of warnings under load) and blocks the child, which then never
        # prints the line the test waits for (a hang seen twice under load).
        self.errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and script)
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env=env,
        )
        self.writer = 0
        assert self.line() == "ready"

    def line(self) -> str:
        """The next line of the child (or of its writer)."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            pytest.fail(f"the child stopped early:\n{self.error_text()}")
        return line.rstrip("\n")

    def error_text(self) -> str:
        """What the child wrote on its standard error so far."""
        self.errors.flush()
        self.errors.seek(0)
        return self.errors.read()

    def lines(self, count: int) -> list[str]:
        """The next ``count`` lines of a writer that runs until killed.

        A writer that ends on its own (an exception in the store) prints "ended": fail
        with its error instead of waiting forever for lines that will never come.
        """
        lines = []
        for _ in range(count):
            line = self.line()
            if line == "ended":
                self.process.kill()
                self.process.communicate(timeout=10)
                pytest.fail(f"the writer stopped before it was killed:\n{self.error_text()}")
            lines.append(line)
        return lines

    def start(self, *order: str) -> None:
        """Fork a writer running ``order`` (``write URL PREFIX`` or ``load URL CSV``)."""
        assert self.process.stdin is not None
        self.process.stdin.write("\t".join(order) + "\n")
        self.process.stdin.flush()
        words = self.line().split()
        assert words[0] == "pid", words
        self.writer = int(words[1])

    def kill(self) -> list[str]:
        """SIGKILL the writer; return the lines it printed that were not read yet."""
        # A writer faster than the timed first run may already have ended (and been
        # reaped): there is nothing left to interrupt, its outcome is still checked.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.writer, signal.SIGKILL)
        return self.finish()

    def finish(self) -> list[str]:
        """The writer's lines up to its end."""
        lines = []
        while (line := self.line()) != "ended":
            lines.append(line)
        return lines

    def close(self) -> None:
        """End the child."""
        self.process.communicate(timeout=10)
        self.errors.close()


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


def test_kill_during_writes_loses_no_acknowledged_write(
    make_url: Callable[[], str], tmp_path: Path
) -> None:
    chance = random.Random(11)  # noqa: S311  (timing only)
    seen: Counter[str] = Counter()
    url = make_url()
    upgrade(url)
    # The same store goes through every kill: each one must leave it usable.
    child = Child()
    events = responses = 0
    for attempt in range(KILLS):
        child.start("write", url, f"k{attempt}")
        target = chance.randint(5, 60)
        lines = child.lines(target)
        time.sleep(chance.uniform(0, 0.03))
        lines += child.kill()
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
    child.close()
    dispose_engine(url)
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


def _import_stores(folder: Path, count: int) -> list[str]:
    """URLs of ``count`` upgraded SQLite stores holding the test structures."""
    template = folder / "template.sqlite"
    url = f"sqlite:///{template}"
    upgrade(url)
    open_repositories(url).structures.upsert_structures(STRUCTURES)
    dispose_engine(url)  # checkpoints the WAL into the file
    urls = []
    for n in range(count):
        copy = folder / f"import{n}.sqlite"
        shutil.copyfile(template, copy)
        urls.append(f"sqlite:///{copy}")
    return urls


IMPORT_EVENTS = 10_000
IMPORT_KILL_AT = (0.15, 0.35, 0.55, 0.75, 0.9)


def test_kill_during_csv_import_keeps_all_or_nothing(tmp_path: Path) -> None:
    source = tmp_path / "large.csv"
    _large_import_file(source, IMPORT_EVENTS)
    urls = _import_stores(tmp_path, len(IMPORT_KILL_AT) + 1)
    child = Child()
    # A first import runs to its end: its duration places the kills of the others.
    child.start("load", urls[0], str(source))
    assert child.line() == "start"
    began = time.perf_counter()
    assert child.finish() == [f"done {IMPORT_EVENTS}"]
    duration = time.perf_counter() - began
    outcomes: Counter[str] = Counter()
    for n, url in enumerate(urls):
        if n:
            child.start("load", url, str(source))
            assert child.line() == "start"
            time.sleep(duration * IMPORT_KILL_AT[n - 1])
            lines = child.kill()
            assert lines in ([], [f"done {IMPORT_EVENTS}"]), lines
        assert schema_status(url).up_to_date
        _integrity_ok(url)
        store = open_repositories(url)
        texts = _check_records(store)
        assert len(texts) in {0, IMPORT_EVENTS}, len(texts)
        outcomes["all" if texts else "none"] += 1
        _check_usable(store, tmp_path / f"after{n}.csv", len(texts))
        dispose_engine(url)
    child.close()
    # The uninterrupted import wrote everything; each interrupted one all or nothing.
    assert outcomes["all"] >= 1
