"""Benchmark and fault test of the public questionnaire (issue 14 point 6).

Prepares a temporary SQLite store with the FICTIONAL demo territory's workspace, a
project and an open collection campaign (created through the pipeline, as the
workspace does), then starts the server as a subprocess (``tierslieux web`` on
loopback, the public rate limit raised: every client here shares 127.0.0.1).

``--answers`` submissions (1,000) are sent by ``--clients`` concurrent clients (20,
httpx, one session each): GET the form (its CSRF token and idempotency key), then POST
a valid answer.  A request that fails on the connection (server gone, refused, reset)
is sent again with the SAME idempotency key until it gets an answer.  When half of the
answers are acknowledged the server is killed with SIGKILL, then restarted on the same
port.

At the end the database is read directly and the script prints: answers acknowledged
(a receipt code received), answers found in the database, acknowledged but lost,
duplicates (one idempotency key stored twice, or one answer stored twice), stored but
never acknowledged, the p50/p95 latency of the form (GET) and of the submission
(POST; the ones that spanned the restart counted apart), and errors.  Targets: 0 lost,
0 duplicates, p95 < 300 ms.  Figures are printed, never asserted.

Run: ``.venv/bin/python bench/bench_public_form.py [--answers 1000] [--clients 20]
[--workers 1] [--no-kill]`` (the server and its workers are one process group,
killed together).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

SECRET = "banc-public-" + "k" * 40
PASSWORD = "mot de passe du banc"  # noqa: S105 - benchmark data
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CODE = re.compile(r'class="code-recu">([A-Z0-9-]{19})<')
COMMUNES = [
    "Bourg-Fictif (FICTIF)",
    "Montfictif (FICTIF)",
    "Villedémo (FICTIF)",
    "Les Essais (FICTIF)",
    "La Maquette (FICTIF)",
]
STATUTS = ["salarie", "independant", "startup", "associatif"]
ENVIES = ["proche", "convivial", "outils", "rencontres"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def prepare(base: Path) -> dict[str, Any]:
    """Workspace, store, a chargé de mission, a project and an open campaign."""
    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415
    from tierslieux.pipeline.campaigns import CampaignRequest, create_campaign  # noqa: PLC0415
    from tierslieux.pipeline.database import open_store  # noqa: PLC0415
    from tierslieux.pipeline.inputs import InputFiles  # noqa: PLC0415
    from tierslieux.pipeline.projects import create_project  # noqa: PLC0415
    from tierslieux.pipeline.workspace import Workspace, build_workspace  # noqa: PLC0415

    url = f"sqlite:///{base / 'public.sqlite'}"
    core = Settings(database_url=url, cache_dir=base / "cache", offline=True)
    workspace = base / "workspace"
    build_workspace(core, workspace, InputFiles(demo=True))
    repos = open_store(core)
    charge = add_user(
        repos, "banc@exemple.fr", role="charge_de_mission", actor="banc", password=PASSWORD
    )
    project = create_project(
        repos, name="Banc questionnaire", territory="dep:00", index=None, actor=charge
    )
    inputs = Workspace.open(workspace).inputs(core)
    today = datetime.now(UTC).date()
    campaign = create_campaign(
        core,
        repos,
        project,
        inputs,
        CampaignRequest(
            title="Banc : vos besoins d'un tiers-lieu",
            opens=(today - timedelta(days=1)).isoformat(),
            closes=(today + timedelta(days=30)).isoformat(),
            controller_name="Communauté de communes FICTIVE",
            controller_contact="dpo@exemple.fr",
            purpose="Banc d'essai du questionnaire public.",
            retention_months="12",
        ),
        actor=charge,
    )
    return {"core": core, "workspace": workspace, "campaign": campaign, "base": base}


class Server:
    """``tierslieux web`` in a subprocess; killed and restarted on the same port."""

    def __init__(self, prepared: dict[str, Any], workers: int = 1) -> None:
        self.prepared = prepared
        self.workers = workers
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (prepared["base"] / "server.log").open("ab")

    def start(self) -> float:
        core = self.prepared["core"]
        env = {
            **os.environ,
            "TIERSLIEUX_SECRET_KEY": SECRET,
            "TIERSLIEUX_OFFLINE": "1",
            # Every client of the bench shares 127.0.0.1: the limit is raised (a setting).
            "TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT": "1000000",
        }
        command = [
            sys.executable,
            "-m",
            "tierslieux",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            core.database_url,
            "--workspace",
            str(self.prepared["workspace"]),
            "--cache-dir",
            str(core.cache_dir),
            "--workers",
            str(self.workers),
        ]
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
            command, env=env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped (exit code {self.process.returncode})")
            try:
                if httpx.get(f"{self.url}/sante", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def kill(self) -> None:
        """SIGKILL the server and its worker processes (its process group)."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@dataclass
class Tally:
    """What the clients saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> receipt
    sent_keys: set[str] = field(default_factory=set)
    get_ms: list[float] = field(default_factory=list)
    get_retried_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    post_retried_ms: list[float] = field(default_factory=list)
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def _answer(rng: random.Random) -> dict[str, Any]:
    return {
        "commune_residence": rng.choice(COMMUNES),
        "statut": rng.choice(STATUTS),
        "part_ordinateur": "plus_75",
        "envies": rng.sample(ENVIES, 2),
        "consentement": "oui",
    }


_RETRIED = (httpx.TransportError,)
_GIVE_UP_S = 120.0


def _request(client: httpx.Client, tally: Tally, method: str, path: str, **kw: Any) -> Any:
    """Send until an answer comes back (connection errors and 5xx: same request again)."""
    deadline = time.monotonic() + _GIVE_UP_S
    tries = 0
    while True:
        tries += 1
        try:
            response = client.request(method, path, **kw)
        except _RETRIED:
            response = None
        if response is not None and response.status_code < 500:
            return response, tries
        if time.monotonic() > deadline:
            return response, tries
        with tally.lock:
            tally.retries += 1
        time.sleep(0.05)


def submit_one(client: httpx.Client, slug: str, tally: Tally, rng: random.Random) -> None:
    started = time.perf_counter()
    page, tries = _request(client, tally, "GET", f"/q/{slug}")
    if page is None or page.status_code != 200:
        tally.error(f"form {getattr(page, 'status_code', 'no answer')}")
        return
    with tally.lock:
        elapsed = (time.perf_counter() - started) * 1000
        (tally.get_ms if tries == 1 else tally.get_retried_ms).append(elapsed)
    hidden = dict(_HIDDEN.findall(page.text))
    key = hidden.get("cle_envoi", "")
    with tally.lock:
        tally.sent_keys.add(key)
    started = time.perf_counter()
    done, tries = _request(client, tally, "POST", f"/q/{slug}", data={**hidden, **_answer(rng)})
    elapsed = (time.perf_counter() - started) * 1000
    if done is None:
        tally.error("submission: no answer")
        return
    code = _CODE.search(done.text)
    if done.status_code != 200 or code is None:
        tally.error(f"submission {done.status_code}")
        return
    with tally.lock:
        tally.acknowledged[key] = code.group(1)
        (tally.post_ms if tries == 1 else tally.post_retried_ms).append(elapsed)


def run(answers: int, clients: int, *, kill: bool, workers: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="tierslieux-bench-public-"))
    started = time.perf_counter()
    prepared = prepare(base)
    campaign = prepared["campaign"]
    print(f"prepared in {time.perf_counter() - started:.1f} s (FICTIONAL demo territory) in {base}")
    server = Server(prepared, workers)
    print(f"server started in {server.start():.1f} s on {server.url}")
    tally = Tally()
    restart: dict[str, float] = {}

    def killer() -> None:
        while len(tally.acknowledged) < answers // 2:
            time.sleep(0.01)
        at = time.perf_counter()
        server.kill()
        killed = time.perf_counter()
        restart["started_in"] = server.start()
        restart["down_s"] = time.perf_counter() - killed
        restart["at_ack"] = float(len(tally.acknowledged))
        del at

    watcher = threading.Thread(target=killer, daemon=True) if kill else None
    if watcher is not None:
        watcher.start()
    local = threading.local()

    def work(index: int) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=server.url, timeout=30)
        submit_one(local.client, campaign.slug, tally, random.Random(index))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(work, range(answers)))
    wall = time.perf_counter() - started
    if watcher is not None:
        watcher.join(timeout=300)
    server.stop()
    report(prepared, tally, answers, clients, wall, restart)


def report(
    prepared: dict[str, Any],
    tally: Tally,
    answers: int,
    clients: int,
    wall: float,
    restart: dict[str, float],
) -> None:
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    campaign = prepared["campaign"]
    engine = create_engine(prepared["core"].database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT submission_key, fingerprint, channel FROM survey_respondents "
                "WHERE campaign_id = :c"
            ),
            {"c": campaign.id},
        ).all()
    engine.dispose()
    stored_keys = [r.submission_key for r in rows]
    by_key: dict[str, int] = {}
    for k in stored_keys:
        by_key[k] = by_key.get(k, 0) + 1
    duplicate_keys = sum(n - 1 for n in by_key.values() if n > 1)
    fingerprints = [r.fingerprint for r in rows]
    duplicate_answers = len(fingerprints) - len(set(fingerprints))

    def hashed(key: str) -> str:
        return hashlib.sha256(f"{campaign.id}:{key}".encode()).hexdigest()

    acknowledged = {hashed(k) for k in tally.acknowledged}
    lost = len(acknowledged - set(stored_keys))
    unacknowledged = len(set(stored_keys) - acknowledged)
    posts = tally.post_ms + tally.post_retried_ms
    print()
    print(
        f"submissions: {answers} from {clients} concurrent clients, wall time {wall:.1f} s "
        f"({answers / wall:.0f} answers/s)"
    )
    if restart:
        print(
            f"server SIGKILLed after {int(restart['at_ack'])} acknowledged answers, "
            f"back {restart['down_s']:.1f} s later"
        )
    print(f"acknowledged (receipt received): {len(tally.acknowledged)}")
    print(f"answers found in the database: {len(rows)}")
    print(f"acknowledged but lost: {lost}")
    print(f"duplicates: {duplicate_keys} (same idempotency key), {duplicate_answers} (same answer)")
    print(f"stored but never acknowledged: {unacknowledged}")
    print(f"requests sent again after a connection error or 5xx: {tally.retries}")
    gets = tally.get_ms + tally.get_retried_ms
    print(
        f"latency GET form: p50 {_percentile(gets, 0.5):.0f} ms, "
        f"p95 {_percentile(gets, 0.95):.0f} ms (all {len(gets)}); "
        f"p95 {_percentile(tally.get_ms, 0.95):.0f} ms without the "
        f"{len(tally.get_retried_ms)} that spanned the restart"
    )
    print(
        f"latency POST answer: p50 {_percentile(posts, 0.5):.0f} ms, "
        f"p95 {_percentile(posts, 0.95):.0f} ms (all {len(posts)}); "
        f"p95 {_percentile(tally.post_ms, 0.95):.0f} ms without the "
        f"{len(tally.post_retried_ms)} that spanned the restart"
    )
    print(f"errors: {sum(tally.errors.values())} {tally.errors or ''}".rstrip())
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--no-kill", action="store_true", help="no SIGKILL in the middle")
    args = parser.parse_args()
    run(args.answers, args.clients, kill=not args.no_kill, workers=args.workers)


if __name__ == "__main__":
    main()
