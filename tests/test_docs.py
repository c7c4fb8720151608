"""The README documents every setting, every indicator and every command option."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.model.indicators import INDICATORS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"TIERSLIEUX_{name.upper()}" in README, name


def test_every_indicator_is_documented() -> None:
    for name in INDICATORS:
        assert f"`{name}`" in README, name


def _options(command: Any, path: str) -> list[tuple[str, str]]:
    """Long options of ``command`` and of its subcommands (Typer vendors its own click)."""
    found = [
        (path, opt)
        for param in command.params
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ]
    for name, sub in getattr(command, "commands", {}).items():
        found.extend(_options(sub, f"{path} {name}"))
    return found


def test_every_command_option_is_documented() -> None:
    root = typer.main.get_command(app)
    missing = [f"{path}: {opt}" for path, opt in _options(root, "tierslieux") if opt not in README]
    assert not missing, missing


def test_python_example_of_the_readme_runs_twice_without_touching_the_real_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert len(blocks) == 1
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("TIERSLIEUX_DATABASE_URL", raising=False)
    monkeypatch.setenv("TIERSLIEUX_CACHE_DIR", str(tmp_path / "cache"))
    for _run in range(2):  # the same submission id twice must not collide
        exec(compile(blocks[0], "README.md", "exec"), {})  # noqa: S102  (our own README)
        printed = capsys.readouterr().out
        assert "potentiel" in printed
        assert "gain_marginal" in printed
        assert "highs" in printed
        assert "part_loin_du_site" in printed  # the last row of the typology
    assert not (home / ".local" / "share" / "tierslieux").exists()
    assert not (tmp_path / "cache" / "demo" / "demo.sqlite").exists()  # its own base
