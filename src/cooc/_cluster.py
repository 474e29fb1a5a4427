"""What the client knows of a Dask cluster, and the one-line errors of a run that failed on it: shared by
:mod:`cooc.dask` (counting) and :mod:`cooc.dask_linalg` (weighting and SVD)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["ClusterError", "require_dask"]

_EXTRA = "cooc[dask]"


class ClusterError(RuntimeError):
    """A run on the Dask cluster failed: a worker died (most often out of memory), or the scheduler
    was lost. The message names the stage, the memory each worker had and what to change."""


def require_dask() -> Any:
    """Import ``dask.bag``, ``distributed`` and ``fsspec``, or raise an ImportError naming the extra."""
    try:
        import dask.bag  # noqa: F401
        import distributed
        import fsspec  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"cooc.dask needs Dask's distributed scheduler, which is not installed ({exc}); "
            f"install the extra: pip install '{_EXTRA}'"
        ) from exc
    return distributed



def _gib(n: float) -> str:
    return f"{n / (1 << 30):.2f} GiB"


class _Cluster:
    """What the client knows of the cluster at the start of a run (for the number of blocks and the
    error messages, which must not depend on a scheduler that may be gone)."""

    def __init__(self, address: str, workers: list[tuple[int, int]]) -> None:
        self.address = address
        self.workers = workers  # (memory_limit in bytes, 0 = none; threads) per worker
        self.labels: dict[str, str] = {}

    @classmethod
    def of(cls, client: Any) -> _Cluster:
        try:
            info = client.scheduler_info(n_workers=-1)
        except TypeError:  # older distributed: every worker is listed
            info = client.scheduler_info()
        workers = [(int(w.get("memory_limit") or 0), int(w.get("nthreads") or 1))
                   for w in info.get("workers", {}).values()]
        return cls(str(info.get("address", "")), workers)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def per_thread(self) -> int | None:
        """The smallest worker memory limit per thread, or None if no worker has a limit."""
        limits = [m // max(t, 1) for m, t in self.workers if m > 0]
        return min(limits) if limits else None

    def memory(self) -> str:
        """E.g. ``"2 worker(s), memory limit 1.00 GiB each, 1 thread(s) each"``."""
        if not self.workers:
            return "no workers"
        lo, hi = min(m for m, _ in self.workers), max(m for m, _ in self.workers)
        limit = ("no memory limit" if hi == 0 else f"memory limit {_gib(lo)} each" if lo == hi
                 else f"memory limits {_gib(lo)} to {_gib(hi)}")
        threads = max(t for _, t in self.workers)
        return f"{self.n_workers} worker(s), {limit}, up to {threads} thread(s) each"

    def failure(self, exc: BaseException, stage: str) -> BaseException | None:
        """The cooc exception for a cluster failure during ``stage``, or None to let ``exc`` through."""
        import concurrent.futures

        import distributed
        from distributed.comm.core import CommClosedError

        if isinstance(exc, distributed.KilledWorker):
            key = exc.task[0] if isinstance(exc.task, tuple) else str(exc.task)
            where = self.labels.get(str(key), stage)
            more_blocks = "cut the counts into more row blocks (a lower memory_limit=, or a larger n_blocks=)"
            smaller = "count smaller pieces (a lower memory_limit= or partition_size=)"
            if where.startswith("summing"):
                advice = more_blocks
            elif where.startswith("counting partition"):
                advice = smaller
            else:  # a task of no named stage (Dask gives up on every task the dead worker held)
                advice = f"{smaller}, {more_blocks}"
            return ClusterError(
                f"{where} failed: a worker holding it died {exc.allowed_failures + 1} time(s), Dask's "
                f"limit (most often out of memory; {self.memory()}); {advice}, give each worker "
                "more memory, or add workers"
            )
        if isinstance(exc, (CommClosedError, concurrent.futures.CancelledError)):
            return ClusterError(
                f"{stage} failed: lost the connection to the Dask scheduler {self.address} "
                f"({type(exc).__name__}: {exc}); check that the scheduler is running and reachable, "
                "then run again"
            )
        if isinstance(exc, TimeoutError):
            return ClusterError(
                f"{stage} failed: timed out ({exc}); the Dask scheduler {self.address} or the "
                "storage the workers read did not answer"
            )
        if isinstance(exc, OSError) and not isinstance(exc, ClusterError):
            reason = exc.strerror or str(exc) or type(exc).__name__
            if exc.errno is None:
                return OSError(f"{stage}: {reason}")
            return OSError(exc.errno, f"{stage}: {reason}", exc.filename)
        return None

    def stage(self, stage: str) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def guard() -> Iterator[None]:
            try:
                yield
            except Exception as exc:
                mapped = self.failure(exc, stage)
                if mapped is None:
                    raise
                raise mapped from exc

        return guard()
