"""Import-linter contracts (pyproject ``[tool.importlinter]``): kept today, and they bite.

``scripts/test.sh`` already runs ``lint-imports``; these tests make the contracts part
of ``pytest`` too, and check on a copy of the package that each contract fails on the
import it is meant to forbid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tierslieux

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(tierslieux.__file__).resolve().parent
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="lint-imports is not installed")

LAYERS = "Layers: interfaces -> pipeline -> sources/analysis -> model"
INTERFACES = "Interfaces and renderers never import sources, analysis or store directly"
MODEL = "The model does no I/O: no database, HTTP, file-format or rendering library"


def _lint(config: Path, *, cwd: Path, pythonpath: Path | None = None) -> str:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    assert LINT_IMPORTS is not None
    done = subprocess.run(  # noqa: S603  (our own tool, fixed arguments)
        [LINT_IMPORTS, "--no-cache", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return f"rc={done.returncode}\n{done.stdout}\n{done.stderr}"


def _status(output: str, contract: str) -> str:
    line = next(row for row in output.splitlines() if row.startswith(contract + " "))
    return line.rsplit(" ", 1)[1]


def test_contracts_are_kept() -> None:
    output = _lint(ROOT / "pyproject.toml", cwd=ROOT)
    assert output.startswith("rc=0"), output
    for contract in (LAYERS, INTERFACES, MODEL):
        assert _status(output, contract) == "KEPT", output


def test_each_contract_breaks_on_the_import_it_forbids(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "tierslieux"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    violations = {
        # A renderer reading a source directly.
        "reports/communities.py": "import tierslieux.sources.communes\n",
        # Two siblings of the middle layer depending on each other.
        "analysis/dedup.py": "import tierslieux.store\n",
        # The model opening a database.
        "model/codes.py": "import duckdb\n",
    }
    for name, line in violations.items():
        module = copy / name
        module.write_text(module.read_text(encoding="utf-8") + line, encoding="utf-8")
    output = _lint(tmp_path / "pyproject.toml", cwd=tmp_path, pythonpath=tmp_path / "src")
    assert "tierslieux.reports.communities -> tierslieux.sources.communes" in output, output
    assert not output.startswith("rc=0"), output
    assert _status(output, LAYERS) == "BROKEN", output
    assert _status(output, INTERFACES) == "BROKEN", output
    assert _status(output, MODEL) == "BROKEN", output
