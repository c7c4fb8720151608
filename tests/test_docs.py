"""The README documents every setting and every indicator."""

from __future__ import annotations

from pathlib import Path

from tierslieux.config import Settings
from tierslieux.model.indicators import INDICATORS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"TIERSLIEUX_{name.upper()}" in README, name


def test_every_indicator_is_documented() -> None:
    for name in INDICATORS:
        assert f"`{name}`" in README, name
