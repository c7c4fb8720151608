"""Shared fixtures."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tierslieux.cli.common import cli_label
from tierslieux.config import Settings
from tierslieux.errors import use_labels
from tierslieux.i18n import use_language

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def data_dir() -> Path:
    """Folder of the hand-written test files."""
    return DATA


@pytest.fixture
def shared_real() -> Path:
    """Folder of the real extracts in ../shared/data/real; skips the test when absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip("../shared/data/real absent : test sur données réelles ignoré")
    return SHARED_REAL


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment of a CLI run: a cache of its own (modules needing a database override it)."""
    return {"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def store_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a CLI run with a store of its own: its database, cache and data
    folder in the test's folder, a terminal 200 columns wide."""
    return {
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.sqlite'}",
        "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "COLUMNS": "200",
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings with a cache and an SQLite store of the test's own (modules with
    other needs override it)."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'survey.sqlite'}",
        cache_dir=tmp_path / "cache",
        offline=True,
    )


@pytest.fixture
def cli_labels() -> object:
    """Name inputs as the CLI does (``--territory``) in messages read by the Python API."""
    with use_labels(cli_label):
        yield


@pytest.fixture(autouse=True)
def _unfrozen() -> object:
    """Give the collector back what a web application froze (tierslieux.web.memo.settle):
    a test's garbage must not stay in memory for the rest of the run."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _french() -> object:
    """Run every test in French, the default language."""
    with use_language("fr"):
        yield
