"""Peak resident memory of this process during a run, for ``cooc bench`` (:mod:`cooc.bench.harness`)
and ``cooc bench --growth`` (:mod:`cooc.bench.growth_stage`). Imports nothing of cooc, so a stage's
process loads only what the stage needs."""

from __future__ import annotations

__all__ = ["MemoryProbe"]


class MemoryProbe:
    """Peak resident memory of this process during a run.

    On Linux the kernel's high-water mark (``VmHWM``) is reset before each timed run by writing ``5``
    to ``/proc/self/clear_refs``, and read after it: the peak of that run alone, measured, not
    estimated. Elsewhere, an extra untimed run under :mod:`tracemalloc` gives the peak of the Python
    and numpy allocations of the run.
    """

    def __init__(self) -> None:
        self.method = "vmhwm" if self._can_reset() else "tracemalloc"

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise OSError(f"{key} not in /proc/self/status")

    @classmethod
    def _can_reset(cls) -> bool:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
            cls._status("VmHWM")
            return True
        except OSError:
            return False

    def reset(self) -> int | None:
        """Reset the high-water mark; return the resident memory now (bytes), or None."""
        if self.method != "vmhwm":
            return None
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return self._status("VmRSS")

    def peak(self) -> int | None:
        return self._status("VmHWM") if self.method == "vmhwm" else None

    @staticmethod
    def describe(method: str, in_process: bool) -> str:
        where = "this process" if in_process else "a process forked for each measurement"
        if method == "vmhwm":
            return (f"resident memory of {where} (kernel high-water mark VmHWM, reset before each run "
                    "via /proc/self/clear_refs): 'peak MB' is the highest peak of any run (interpreter, "
                    "libraries and the stage's input included), '+MB' its growth over the memory before "
                    "the stage's first run")
        return ("tracemalloc peak of one extra untimed run ('+MB': Python objects and numpy arrays only, "
                "buffers the compiled kernels allocate with malloc are not seen); no 'peak MB'")
