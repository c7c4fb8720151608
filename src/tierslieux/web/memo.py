"""Small per-process caches of the web application, kept on ``app.state``.

A page and its map documents often need the same costly value (a project's loaded
inputs, a questionnaire analysis, a public form): :func:`remembered` keeps a few of
them, under a key that changes with what they are computed from, the oldest dropped
first.  The caches hold values only; rights are never cached.

:func:`settle` takes what is alive out of the cyclic garbage collector's reach once
such long-lived values are in place: a full collection stops every thread of the
worker, and over the 300 000 objects of a worker serving a region (libraries,
territory index, directory) it took 100 ms, the slowest 1 % of the answers.
"""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from starlette.requests import Request

__all__ = ["remembered", "settle"]

T = TypeVar("T")
_LOCK = threading.Lock()
#: Settlements between two full collections of what was frozen (:func:`settle`).
RECLAIM_EVERY = 64
_settled = 0


def remembered(
    request: Request,
    name: str,
    key: Hashable,
    compute: Callable[[], T],
    *,
    size: int,
    keep: bool = True,
) -> T:
    """The value of ``key`` in the cache ``app.state.<name>``, else ``compute()``.

    The value computed is kept (unless ``keep`` is false), at most ``size`` of them,
    the oldest dropped first; two requests may compute the same value at once (no
    lock is held while computing), the last one stays.
    """
    state = request.app.state
    with _LOCK:
        cache: dict[Hashable, T] | None = getattr(state, name, None)
        if cache is None:
            cache = {}
            setattr(state, name, cache)
        if key in cache:
            return cache[key]
    found = compute()
    if keep:
        with _LOCK:
            while len(cache) >= size:
                cache.pop(next(iter(cache)))
            cache[key] = found
        settle()
    return found


def settle() -> None:
    """Treat every object alive now as long-lived (:func:`gc.freeze`).

    Called once the worker has started and whenever a long-lived value (a cached
    document, the territory index, a directory) has just been made.  Frozen objects
    are still freed when nothing refers to them any more (reference counting); only
    a reference cycle that was alive (or not yet collected) when frozen stays in
    memory.  So that this stays bounded on a server that runs for months, every
    :data:`RECLAIM_EVERY` settlements the frozen objects are given back to the
    collector, collected once, and the survivors frozen again.
    """
    global _settled  # noqa: PLW0603 - one count per process
    with _LOCK:
        _settled += 1
        reclaim = _settled % RECLAIM_EVERY == 0
    if reclaim:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
