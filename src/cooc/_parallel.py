"""The one way cooc runs work in threads.

Every kernel is a single-threaded loop that releases the GIL; parallel work is the same kernel called
on several ranges at once by the threads of one process-wide pool. Results never depend on the number
of threads: callers cut their work into ranges whose results they combine in a fixed order.

- :func:`check_n_jobs` validates a user's ``n_jobs`` (-1: every core).
- :func:`run` calls a list of callables in parallel and waits for all of them.
- :func:`map_ranges` cuts ``[0, n)`` into ranges (balanced by an ``indptr`` when given) and returns
  ``fn(lo, hi)`` for each, in order.
- :func:`map_ordered` streams ``func(item)`` over an iterable in input order with bounded look-ahead.

Calls made in the pool must not wait for other calls of the pool (no nesting).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any, TypeVar

import numpy as np

__all__ = ["check_n_jobs", "cuts", "map_ordered", "map_ranges", "run"]

T = TypeVar("T")
R = TypeVar("R")

_POOL: ThreadPoolExecutor | None = None
_POOL_KEY = (0, 0)  # (pid, max_workers): a forked child, whose copy has no threads, makes its own
_POOL_LOCK = threading.Lock()


def check_n_jobs(n_jobs: Any) -> int:
    """Validate ``n_jobs``: a positive int, or -1 for every core; returns the number of threads."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_KEY
    with _POOL_LOCK:
        pid = os.getpid()
        if _POOL is None or _POOL_KEY[0] != pid or _POOL_KEY[1] < n:
            if _POOL is not None and _POOL_KEY[0] == pid:
                _POOL.shutdown(wait=False)
            size = max(n, os.cpu_count() or 1)
            _POOL = ThreadPoolExecutor(max_workers=size, thread_name_prefix="cooc")
            _POOL_KEY = (pid, size)
        return _POOL


def run(calls: Sequence[Callable[[], R]], on_interrupt: Callable[[], None] | None = None) -> list[R]:
    """Call every callable of ``calls`` in parallel and return their results in order.

    One call runs inline. Otherwise the first runs in the calling thread and the others in the pool.
    Ctrl-C (or any exception) in the calling thread calls ``on_interrupt`` (which should tell the
    other calls to stop), waits for every call to return (they use the caller's arrays), and is
    re-raised; an exception raised by a call is re-raised after all calls returned.
    """
    if len(calls) == 1:
        return [calls[0]()]
    if not calls:
        return []
    futures = [_pool(len(calls) - 1).submit(c) for c in calls[1:]]
    try:
        first = calls[0]()
        for f in futures:
            f.exception()  # waits; errors are raised below, after every call returned
    except BaseException:
        if on_interrupt is not None:
            on_interrupt()
        wait(futures)
        raise
    return [first, *(f.result() for f in futures)]


def cuts(n: int, parts: int, indptr: Any = None) -> list[tuple[int, int]]:
    """``[0, n)`` cut into at most ``parts`` non-empty ranges, of equal rows or, given a CSR
    ``indptr`` of ``n + 1`` entries, of about equal non-zeros. Always at least one range."""
    parts = max(1, min(int(parts), int(n)))
    if indptr is None or parts == 1:
        bounds = [n * i // parts for i in range(parts + 1)]
    else:
        ptr = np.asarray(indptr)
        targets = ptr[-1] * np.arange(1, parts, dtype=np.float64) / parts
        inner = np.searchsorted(ptr, targets, side="left").tolist()
        bounds = [0, *(min(max(int(b), 0), n) for b in inner), n]
    out = [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    return out or [(0, n)]


def map_ranges(fn: Callable[[int, int], R], n: int, n_jobs: int, indptr: Any = None) -> list[R]:
    """``[fn(lo, hi) for (lo, hi) in cuts(n, n_jobs, indptr)]``, the calls run in parallel."""
    calls: list[Callable[[], R]] = [partial(fn, lo, hi) for lo, hi in cuts(n, n_jobs, indptr)]
    return run(calls)


def map_ordered(func: Callable[[T], R], items: Iterable[T], n_jobs: int) -> Iterator[tuple[T, R]]:
    """``(item, func(item))`` in input order, computed by ``n_jobs`` threads with bounded look-ahead."""
    if n_jobs <= 1:
        for item in items:
            yield item, func(item)
        return
    pool = _pool(n_jobs)
    gate = threading.BoundedSemaphore(n_jobs)  # the pool may be larger: n_jobs calls at a time

    def gated(item: T) -> R:
        with gate:
            return func(item)

    pending: list[tuple[T, Future[R]]] = []
    try:
        for item in items:
            pending.append((item, pool.submit(gated, item)))
            if len(pending) >= 2 * n_jobs:
                first, fut = pending.pop(0)
                yield first, fut.result()
        while pending:
            first, fut = pending.pop(0)
            yield first, fut.result()
    finally:
        for _, fut in pending:
            fut.cancel()
        wait([f for _, f in pending])
