"""``tierslieux users`` and ``tierslieux web`` (the server itself is started by a test too)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.store import dispose_engine

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'base.sqlite'}"
    yield {
        "TIERSLIEUX_DATABASE_URL": url,
        "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "COLUMNS": "200",
    }
    dispose_engine(url)


def test_users_add_reads_the_password_on_stdin_and_lists(env) -> None:
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "marie.dupont@exemple.fr",
            "--role",
            "administrateur",
            "--name",
            "Marie Dupont",
            "--password-stdin",
        ],
        input="un mot de passe solide\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert (
        "Compte créé : marie.dupont (marie.dupont@exemple.fr), rôle administrateur." in added.stdout
    )
    listed = runner.invoke(app, ["users", "list"], env=env)
    # A header line in French names the columns before the accounts, the display
    # name (shown on the web pages) beside the login.
    # (The console expands the tabs: columns are two or more spaces apart.)
    header, first = listed.stdout.splitlines()[:2]
    assert re.split(r"\s{2,}", header.strip()) == [
        "Identifiant",
        "Nom affiché",
        "Courriel",
        "Rôle",
        "État",
    ]
    assert re.split(r"\s{2,}", first.strip())[:2] == ["marie.dupont", "Marie Dupont"]
    assert "marie.dupont" in listed.stdout
    assert "administrateur" in listed.stdout
    short = runner.invoke(
        app,
        ["users", "add", "a@b.fr", "--role", "lecteur", "--password-stdin"],
        input="court\n",
        env=env,
    )
    assert short.exit_code == 1
    assert "trop court" in short.output
    role = runner.invoke(
        app,
        ["users", "add", "a@b.fr", "--role", "chef", "--password-stdin"],
        input="x" * 10,
        env=env,
    )
    assert role.exit_code == 1
    assert "Rôle inconnu" in role.output


def test_web_production_refuses_to_start_without_a_secret(env) -> None:
    env = {**env, "TIERSLIEUX_SECRET_KEY": "changeme"}
    result = runner.invoke(app, ["web", "--production"], env=env)
    assert result.exit_code == 1
    assert "TIERSLIEUX_SECRET_KEY" in result.output
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_web_serves_and_prints_its_address_and_a_one_time_setup_link(env, tmp_path) -> None:
    port = _free_port()
    exe = Path(sys.executable).parent / "tierslieux"
    server = subprocess.Popen(  # noqa: S603
        [str(exe), "web", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "/installation/" in line:
                break
        printed = "".join(lines)
        assert f"http://127.0.0.1:{port}" in printed
        link = re.search(r"(http://\S+/installation/\S+)", printed)
        assert link, printed
        for _attempt in range(100):
            try:
                page = httpx.get(link.group(1), timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page.status_code == 200
        assert "Créer le premier administrateur" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
    key = tmp_path / "web-secret-key"
    assert key.is_file()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
