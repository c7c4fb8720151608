"""Fictional (demo) answers never reach the user's real operational store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.config import Settings
from tierslieux.pipeline.contacts import default_database_path, demo_database_path
from tierslieux.pipeline.survey import SurveyAnalysisRequest, analyse_survey, submit_answers

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

ANSWERS = {
    "commune_residence": "Bourg-Fictif (FICTIF)",
    "statut": "independant",
    "part_ordinateur": "Plus des trois quarts",
    "envies": "proche;Un lieu convivial",
    "consentement": "oui",
}


def test_demo_answers_go_to_the_demo_store_not_the_real_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("TIERSLIEUX_DATABASE_URL", raising=False)
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    submit_answers(settings, ANSWERS, demo=True, submission="demo-1")
    assert not default_database_path().exists()
    assert not (tmp_path / "home").exists()
    assert demo_database_path(settings) == tmp_path / "cache" / "demo" / "demo.sqlite"
    assert demo_database_path(settings).is_file()
    analysis = analyse_survey(settings, SurveyAnalysisRequest(demo=True))
    assert len(analysis.respondents) == 1
    assert not default_database_path().exists()


def test_an_explicit_database_url_wins_over_the_demo_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    base = tmp_path / "choisie.sqlite"
    settings = Settings(
        offline=True, cache_dir=tmp_path / "cache", database_url=f"sqlite:///{base}"
    )
    submit_answers(settings, ANSWERS, demo=True, submission="demo-1")
    assert base.is_file()
    assert not demo_database_path(settings).exists()
    assert not default_database_path().exists()
