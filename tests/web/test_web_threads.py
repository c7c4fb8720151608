"""``TIERSLIEUX_WEB_THREADS``: the requests one worker process serves at once."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from types import SimpleNamespace

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from tierslieux.errors import TierslieuxError
from tierslieux.web import memo
from tierslieux.web.app import create_app
from tierslieux.web.memo import remembered
from tierslieux.web.settings import WebSettings


def test_the_thread_pool_is_the_setting(web_settings: WebSettings) -> None:
    read = WebSettings.from_environment(
        {"TIERSLIEUX_WEB_THREADS": "3", "TIERSLIEUX_SECRET_KEY": "x" * 40},
        core=web_settings.core,
    )
    assert read.request_threads == 3
    assert WebSettings().request_threads == 4
    seen: list[float] = []
    app = create_app(replace(web_settings, request_threads=3))

    @app.get("/_threads")
    async def threads() -> dict[str, float]:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        return {}

    with TestClient(app) as client:
        client.get("/_threads")
    assert seen == [3]


@pytest.mark.parametrize("text", ["0", "beaucoup", "-3"])
def test_a_wrong_thread_count_is_refused_in_french(text: str) -> None:
    with pytest.raises(TierslieuxError, match=r"TIERSLIEUX_WEB_THREADS vaut .* entier positif"):
        WebSettings.from_environment(
            {"TIERSLIEUX_WEB_THREADS": text, "TIERSLIEUX_SECRET_KEY": "x" * 40}
        )


def test_the_worker_settles_its_long_lived_objects(web_settings: WebSettings) -> None:
    """Once started, and once a value is cached, what is alive is out of the cyclic
    collector's reach (gc.freeze): its full collections, which stop every thread, no
    longer walk the libraries and the caches (100 ms each on the PACA project)."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = create_app(web_settings)
    with TestClient(app) as client:
        assert client.get("/sante").status_code == 200
        started = gc.get_freeze_count()
        assert started > 10_000
        request = SimpleNamespace(app=app)
        kept = remembered(request, "essai", "clé", lambda: [[i] for i in range(1000)], size=2)  # type: ignore[arg-type]
        assert gc.get_freeze_count() >= started + 1000
        assert remembered(request, "essai", "clé", list, size=2) is kept  # type: ignore[arg-type]
    gc.unfreeze()


def test_settling_gives_frozen_garbage_back_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference cycle frozen while alive is collected at the next reclaim (every
    RECLAIM_EVERY settlements), so that a long-running worker's memory stays bounded."""
    monkeypatch.setattr(memo, "RECLAIM_EVERY", 3)
    monkeypatch.setattr(memo, "_settled", 0)
    gc.collect()

    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    watch = weakref.ref(cycle)
    memo.settle()  # 1: frozen while alive
    del cycle
    gc.collect()
    assert watch() is not None  # frozen: the collector does not see it
    memo.settle()  # 2
    assert watch() is not None
    memo.settle()  # 3: reclaim
    assert watch() is None
    gc.unfreeze()
