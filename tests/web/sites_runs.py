"""A finished site-selection run of a project, stored as the run layer stores it (tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tierslieux.config import Settings
from tierslieux.i18n import current_language, use_language
from tierslieux.pipeline.site_scenarios import RUN_KIND, SCENARIO_DEFAULTS
from tierslieux.pipeline.sites import SitesRequest, SitesResult, run_sites
from tierslieux.reports.sites import sites_files, sites_summary


def demo_sites_result(count: int = 2) -> SitesResult:
    """``tierslieux sites --demo --count N`` computed once per test process and language
    (its notes are written in the language of the run)."""
    return _demo_sites_result(count, current_language())


@cache
def _demo_sites_result(count: int, lang: str) -> SitesResult:
    cache_dir = Path(__import__("tempfile").mkdtemp(prefix="tierslieux-sites-"))
    request = SitesRequest(territory="dep:00", count=count, demo=True, time_limit=10)
    with use_language(lang):
        return run_sites(Settings(offline=True, cache_dir=cache_dir), request)


def store_done_run(
    repos: Any, project: int, scenario_id: int | None, *, author: str, count: int = 2
) -> str:
    """Record a done run of the demo selection for ``project``; return its id."""
    result = demo_sites_result(count)
    parameters = {**SCENARIO_DEFAULTS, "count": count}
    run = repos.runs.create_run(RUN_KIND, parameters, author=author, scenario_id=scenario_id)
    repos.projects.link_run(project, run.id)
    repos.runs.start_run(run.id)
    for name, content in sites_files(result):
        media = "text/html" if name.endswith(".html") else "text/csv"
        repos.runs.add_result(run.id, name, content, media_type=media)
    repos.runs.finish_run(run.id, summary=sites_summary(result))
    return run.id
