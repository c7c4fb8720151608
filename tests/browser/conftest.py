"""Browser tests: Playwright for Python driving Debian's Chromium, given by its path.

No browser is ever downloaded (never run ``playwright install``): Chromium is
``$TIERSLIEUX_CHROMIUM`` or ``/usr/bin/chromium`` (``.ci/run`` installs Debian's
``chromium``); without it every test here is skipped with the reason.

Fixtures
--------
``chromium_browser``
    One headless Chromium for the session.
``demo_map_data``
    Folder with the demo map documents (see ``browser_demo.write_demo_map_data``).
``site_url``
    Base URL of a loopback server: ``/static/`` is ``src/tierslieux/web/static``,
    ``/pages/`` is ``tests/browser/pages``, ``/donnees/`` is ``demo_map_data`` and
    ``/tuiles/`` answers a grey PNG tile.  Every answer carries the application's CSP.
    Override this fixture to point the tests at the application (``create_app``).
``browser_page``
    A fresh page per test that records console errors, page errors and every request
    (``.errors``, ``.requests``); requests to a host other than loopback are aborted and
    recorded.  At teardown a full-page screenshot is written to ``build/screenshots/``
    (or ``$TIERSLIEUX_SCREENSHOTS``) and its path is listed at the end of the run.
``axe_check``
    ``axe_check(page)`` runs axe-core (``static/vendor/axe.min.js``) on the page and
    fails, listing them, on serious or critical violations; returns the full result.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_demo import LoopbackServer, grey_tile, write_demo_map_data

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "tierslieux" / "web" / "static"
VENDOR = STATIC / "vendor"
PAGES = Path(__file__).resolve().parent / "pages"
AXE = VENDOR / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("TIERSLIEUX_SCREENSHOTS", ROOT / "build" / "screenshots"))
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Flags for a closed network: no background requests to the browser vendor's hosts.
CHROMIUM_ARGS = [
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    # WebGL without a GPU (MapLibre needs it): Chromium's software renderer.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
_written: list[Path] = []


def chromium_executable() -> Path | None:
    """Path of the Chromium to drive, or None when there is none."""
    candidate = Path(os.environ.get("TIERSLIEUX_CHROMIUM", "/usr/bin/chromium"))
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def is_loopback(url: str) -> bool:
    """Whether ``url`` stays on this machine (loopback host, or data:/blob:/about:)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return (parts.hostname or "") in LOOPBACK or (parts.hostname or "").startswith("127.")


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "Chromium absent (ni $TIERSLIEUX_CHROMIUM ni /usr/bin/chromium) : "
            "apt-get install chromium ; aucun navigateur n'est téléchargé."
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright absent : pip install -e '.[dev]'"
    )
    if not AXE.is_file():
        pytest.skip(f"{VENDOR} vide : lancez scripts/install.sh (npm ci et tools/vendor.py).")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class DemoMap:
    """The demo map documents' folder and the diagnosis they were written from."""

    folder: Path
    diagnosis: Any


@pytest.fixture(scope="session")
def demo_map_data(tmp_path_factory: pytest.TempPathFactory) -> DemoMap:
    folder = tmp_path_factory.mktemp("donnees-carte")
    return DemoMap(folder, write_demo_map_data(folder))


@pytest.fixture(scope="session")
def site_url(demo_map_data: DemoMap) -> Iterator[str]:
    routes = {"static": STATIC, "pages": PAGES, "donnees": demo_map_data.folder}
    with LoopbackServer(routes, fixed={"tuiles": grey_tile()}) as server:
        yield server.url


@dataclass
class RecordedPage:
    """A Playwright page with what it logged and requested."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests if not is_loopback(url)]


def _screenshot_name(nodeid: str) -> str:
    name = nodeid.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".png"


@pytest.fixture
def browser_page(chromium_browser: Any, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    context = chromium_browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, service_workers="block"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    recorded = RecordedPage(page)

    def on_console(message: Any) -> None:
        if message.type == "error":
            recorded.errors.append(f"console: {message.text}")

    def on_route(route: Any) -> None:
        if is_loopback(route.request.url):
            route.continue_()
        else:
            recorded.blocked.append(route.request.url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: recorded.errors.append(f"page: {error}"))
    page.on("request", lambda req: recorded.requests.append(req.url))
    context.route("**/*", on_route)
    try:
        yield recorded
    finally:
        if not _written and SCREENSHOTS.name == "screenshots":
            # A fresh folder each run, so that it shows this run's pages only.
            shutil.rmtree(SCREENSHOTS, ignore_errors=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / _screenshot_name(request.node.nodeid)
        try:
            page.screenshot(path=str(target), full_page=True)
            _written.append(target)
        finally:
            context.close()


def _violation_lines(violations: list[dict[str, Any]]) -> list[str]:
    lines = []
    for violation in violations:
        targets = [", ".join(node.get("target", [])) for node in violation.get("nodes", [])]
        lines.append(
            f"{violation['impact']} {violation['id']}: {violation['help']} "
            f"({len(targets)} : {'; '.join(targets[:5])})"
        )
    return lines


@pytest.fixture
def axe_check() -> Callable[..., dict[str, Any]]:
    source = AXE.read_text(encoding="utf-8")

    def check(page: Any, *, context: str | None = None) -> dict[str, Any]:
        # add_script_tag(path=...) writes an inline <script>, which the application's
        # CSP (script-src 'self') refuses; evaluating the library goes around the CSP.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        result: dict[str, Any] = page.evaluate(
            """async (selector) => await window.axe.run(
                   selector ? document.querySelector(selector) : document,
                   {resultTypes: ["violations"]},
               )""",
            context,
        )
        serious = [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
        assert not serious, "axe-core : violations graves ou critiques :\n" + "\n".join(
            _violation_lines(serious)
        )
        return result

    return check


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _written:
        terminalreporter.write_line(
            f"Captures d'écran des tests du navigateur ({len(_written)}) : {SCREENSHOTS}"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
