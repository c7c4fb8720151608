"""Benchmark of the web application under 20 concurrent users (issue 13 point 8).

Prepares a store (SQLite in a temporary folder, or ``--database-url`` for PostgreSQL)
with a PACA-sized project: the workspace and the directory are built from
``../shared/data/real`` (946 communes of région 93, zonings, tiers-lieux, stations and
digital-mediation points; no Sirene nor RNA there) when it is present, else from the
FICTIONAL demo territory (said in the output).  Then starts ``uvicorn`` in a subprocess
on loopback (``tierslieux.web.app:create_app``, ``--workers`` processes) and runs
``--users`` simulated chargés de mission (httpx, asyncio) for ``--seconds`` seconds,
each looping over:

- map data: ``communautes/communes.geojson`` and ``communautes/structures.geojson``
  (all, or one step), fetched whole each time (no ``If-None-Match``: the heavier
  case), gzip accepted as a browser does, timed until the last byte is received;
- directory pages: ``communautes`` (with or without a filter) and ``contacts``;
- contact updates: a contact page read, then a note written with its version (a 409,
  a colleague's change in between, is counted apart: the expected answer, not an error).

Prints, per route group, the requests, p50/p95/p99 latency and errors (any other
status, or a failed request), and the machine's load average before and after the
timed window (other jobs of the machine weigh on the figures).  Figures are printed,
never asserted.

Run: ``.venv/bin/python bench/bench_web.py [--seconds 30] [--users 20] [--workers 1]
[--database-url postgresql+psycopg://...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PASSWORD = "mot de passe du banc"  # noqa: S105 - benchmark data
SECRET = "banc-" + "k" * 40
_VERSION = re.compile(r'name="version" value="(\d+)"')
_CONTACT = re.compile(r'href="(/projets/\d+/contacts/[^"?]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def prepare(base: Path, database_url: str | None, users: int) -> dict[str, Any]:
    """Workspace, store, users, project and its directory (not timed as load)."""
    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415
    from tierslieux.pipeline.database import open_store  # noqa: PLC0415
    from tierslieux.pipeline.inputs import InputFiles  # noqa: PLC0415
    from tierslieux.pipeline.jobs import JobRunner  # noqa: PLC0415
    from tierslieux.pipeline.project_communities import start_directory  # noqa: PLC0415
    from tierslieux.pipeline.project_runs import ProjectRuns  # noqa: PLC0415
    from tierslieux.pipeline.projects import create_project  # noqa: PLC0415
    from tierslieux.pipeline.workspace import build_workspace  # noqa: PLC0415
    from tierslieux.reports.communities import directory_files  # noqa: PLC0415

    real = REAL.is_dir()
    url = database_url or f"sqlite:///{base / 'web.sqlite'}"
    core = Settings(
        database_url=url,
        cache_dir=base / "cache",
        offline=True,
        data_dir=REAL if real else None,
    )
    workspace = base / "workspace"
    started = time.perf_counter()
    build_workspace(core, workspace, InputFiles(demo=not real))
    print(f"workspace built in {time.perf_counter() - started:.1f} s")
    repos = open_store(core)
    accounts = [f"banc{i}@exemple.fr" for i in range(users)]
    created = [
        add_user(repos, email, role="charge_de_mission", actor="banc", password=PASSWORD)
        for email in accounts
    ]
    territory = "region:93" if real else "dep:00"
    project = create_project(
        repos, name="Banc PACA", territory=territory, index=None, actor=created[0]
    )
    for user in created[1:]:
        repos.projects.add_member(project.id, user.id, actor="banc")
    runs = ProjectRuns(repos, JobRunner(max_workers=1))
    started = time.perf_counter()
    run = start_directory(
        runs, core, project, workspace=workspace, render=directory_files, actor=created[0]
    )
    runs.wait(run.id)
    runs.shutdown(wait=True)
    done = repos.runs.get_run(run.id)
    if done.status != "done":
        raise SystemExit(f"directory build failed: {done.error}")
    summary = done.summary or {}
    print(
        f"directory built in {time.perf_counter() - started:.1f} s: "
        f"{summary.get('structures')} structures, {summary.get('communes')} communes "
        f"({'real PACA extracts' if real else 'FICTIONAL demo territory'})"
    )
    return {
        "core": core,
        "workspace": workspace,
        "project": project.id,
        "accounts": accounts,
        "real": real,
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its children (uvicorn's workers)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for process in [pid, *map(int, children)]:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return float("nan")  # not Linux, or a worker gone: the figure is not printed
    return total / os.sysconf("SC_CLK_TCK")


def start_server(prepared: dict[str, Any], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``uvicorn --factory tierslieux.web.app:create_app`` on loopback; wait until it answers."""
    import httpx  # noqa: PLC0415

    core = prepared["core"]
    port = _free_port()
    env = {
        **os.environ,
        "TIERSLIEUX_DATABASE_URL": core.database_url,
        "TIERSLIEUX_CACHE_DIR": str(core.cache_dir),
        "TIERSLIEUX_OFFLINE": "1",
        "TIERSLIEUX_WORKSPACE": str(prepared["workspace"]),
        "TIERSLIEUX_SECRET_KEY": SECRET,
    }
    if core.data_dir is not None:
        env["TIERSLIEUX_DATA_DIR"] = str(core.data_dir)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tierslieux.web.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit code {server.returncode})")
        try:
            if httpx.get(f"{url}/sante", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


class Recorder:
    """Latencies (ms) and outcomes per route group."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.conflicts: dict[str, int] = defaultdict(int)

    async def call(
        self,
        group: str,
        client: Any,
        method: str,
        path: str,
        *,
        expect: set[int],
        raw: bool = False,
        **kw: Any,
    ) -> Any:
        """One request, timed until its whole body is received.

        ``raw``: the body is received as sent (gzip for the map documents, as a
        browser takes them) and not decompressed: decompressing is the client's work,
        done by the browser on the user's own machine, not the server's latency.
        """
        started = time.perf_counter()
        try:
            if raw:
                async with client.stream(method, path, **kw) as response:
                    async for _chunk in response.aiter_raw():
                        pass
            else:
                response = await client.request(method, path, **kw)
        except Exception:  # noqa: BLE001 - any failure is counted as an error
            self.errors[group] += 1
            self.times[group].append((time.perf_counter() - started) * 1000)
            return None
        self.times[group].append((time.perf_counter() - started) * 1000)
        if response.status_code == 409:
            self.conflicts[group] += 1
        elif response.status_code not in expect:
            self.errors[group] += 1
        return response


async def _log_in(client: Any, email: str) -> str:
    page = await client.get("/connexion")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    answer = await client.post(
        "/connexion",
        data={"login": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 303:
        raise SystemExit(f"login of {email} refused ({answer.status_code})")
    page = await client.get("/projets")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    if found is None:
        raise SystemExit("no CSRF token on the projects page")
    return found.group(1)


async def _user(
    url: str, email: str, project: int, window: dict[str, Any], recorder: Recorder, seed: int
) -> None:
    import httpx  # noqa: PLC0415

    rng = random.Random(seed)
    base = f"/projets/{project}"
    async with httpx.AsyncClient(base_url=url, timeout=60, follow_redirects=False) as client:
        token = await _log_in(client, email)
        listing = await client.get(f"{base}/communautes")
        contacts = sorted(set(_CONTACT.findall(listing.text))) or [f"{base}/contacts"]
        window["ready"] += 1
        if window["ready"] == window["users"]:
            window["deadline"] = time.monotonic() + window["seconds"]
            window["start"].set()
        await window["start"].wait()
        if not window["cpu"]:
            window["cpu"] = (time.process_time(), _cpu_seconds(window["server"]))
        while time.monotonic() < window["deadline"]:
            draw = rng.random()
            if draw < 0.35:
                path = rng.choice(
                    [
                        f"{base}/communautes/communes.geojson",
                        f"{base}/communautes/structures.geojson",
                        f"{base}/communautes/structures.geojson?etape={rng.choice('1234')}",
                    ]
                )
                await recorder.call("map data", client, "GET", path, expect={200}, raw=True)
            elif draw < 0.7:
                path = rng.choice(
                    [
                        f"{base}/communautes",
                        f"{base}/communautes?etape=ancrages",
                        f"{base}/communautes?ouverture=a_elargir",
                        f"{base}/contacts",
                    ]
                )
                await recorder.call("directory pages", client, "GET", path, expect={200})
            else:
                contact = rng.choice(contacts)
                page = await recorder.call("contact page", client, "GET", contact, expect={200})
                if page is None:
                    continue
                version = _VERSION.search(page.text)
                if version is None:
                    recorder.errors["contact update"] += 1
                    continue
                await recorder.call(
                    "contact update",
                    client,
                    "POST",
                    f"{contact}/note",
                    expect={303},
                    data={
                        "texte": f"Note du banc {seed}",
                        "version": version.group(1),
                        "csrf_token": token,
                    },
                )


async def load(
    url: str, prepared: dict[str, Any], users: int, seconds: float, server: int
) -> Recorder:
    """Run the simulated users for ``seconds`` (after they have logged in)."""
    import httpx  # noqa: PLC0415

    recorder = Recorder()
    # One user opens the screens first: the server reads the directory and the
    # workspace's names once (not timed; the figures are those of a server in use).
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        await _log_in(client, prepared["accounts"][0])
        started = time.perf_counter()
        for path in ("communautes", "contacts", "communautes/structures.geojson"):
            await client.get(f"/projets/{prepared['project']}/{path}")
        print(f"first opening of the screens (warm-up): {time.perf_counter() - started:.1f} s")
    # Every user logs in (Argon2) and reads the directory once, then the timed window opens.
    window: dict[str, Any] = {
        "ready": 0,
        "users": users,
        "seconds": seconds,
        "deadline": 0.0,
        "start": asyncio.Event(),
        "server": server,
        "cpu": (),
    }
    await asyncio.gather(
        *(
            _user(url, prepared["accounts"][i], prepared["project"], window, recorder, i)
            for i in range(users)
        )
    )
    client_cpu = time.process_time() - window["cpu"][0]
    server_cpu = _cpu_seconds(server) - window["cpu"][1]
    requests = sum(len(times) for times in recorder.times.values())
    if requests:
        # On a small machine the simulated users (this process) take a core of their
        # own: the latencies include the wait for it.
        print(
            f"CPU per request: server {server_cpu / requests * 1000:.2f} ms, "
            f"simulated users {client_cpu / requests * 1000:.2f} ms "
            f"(server {server_cpu / seconds:.0%} of a core, users {client_cpu / seconds:.0%})"
        )
    return recorder


def report(recorder: Recorder, seconds: float) -> None:
    """Print p50/p95/p99 and errors per group."""
    print(
        f"{'group':18s} {'requests':>9s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} "
        f"{'p99 ms':>8s} {'errors':>7s} {'409':>5s}"
    )
    everything: list[float] = []
    for group in ("map data", "directory pages", "contact page", "contact update"):
        times = recorder.times.get(group, [])
        everything.extend(times)
        print(
            f"{group:18s} {len(times):9d} {len(times) / seconds:7.1f} "
            f"{_percentile(times, 0.5):8.1f} {_percentile(times, 0.95):8.1f} "
            f"{_percentile(times, 0.99):8.1f} {recorder.errors.get(group, 0):7d} "
            f"{recorder.conflicts.get(group, 0):5d}"
        )
    if everything:
        print(
            f"{'all':18s} {len(everything):9d} {len(everything) / seconds:7.1f} "
            f"{statistics.median(everything):8.1f} {_percentile(everything, 0.95):8.1f} "
            f"{_percentile(everything, 0.99):8.1f} {sum(recorder.errors.values()):7d} "
            f"{sum(recorder.conflicts.values()):5d}"
        )


def main() -> int:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierslieux-banc-web-") as tmp:
        prepared = prepare(Path(tmp), options.database_url, options.users)
        server, url = start_server(prepared, options.workers)
        try:
            print(
                f"{options.users} users, {options.seconds:.0f} s, {options.workers} worker(s), "
                f"{'PostgreSQL' if options.database_url else 'SQLite'}, {url}"
            )
            before = os.getloadavg()
            recorder = asyncio.run(load(url, prepared, options.users, options.seconds, server.pid))
            after = os.getloadavg()
            print(
                "machine load (1, 5, 15 min; "
                f"{os.cpu_count()} cores): before {before[0]:.2f} {before[1]:.2f} "
                f"{before[2]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(recorder, options.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
