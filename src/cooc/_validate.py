"""Argument checks shared by the whole package, and the one size parser (``"256MB"``).

Every check raises a ValueError or TypeError naming the parameter, before any work (or kernel) runs.
The thread count is checked by :func:`cooc._parallel.check_n_jobs`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DISTANCES",
    "MAX_P",
    "MAX_WINDOW",
    "WEIGHTINGS",
    "check_float_dtype",
    "check_positive",
    "check_real",
    "check_weighting",
    "check_window",
    "is_sparse",
    "parse_size",
]

WEIGHTINGS = ("count", "ppmi", "sppmi")
"""What a model's vectors are made of: raw counts, PPMI, or shifted PPMI."""

DISTANCES = ("uniform", "harmonic", "linear")
"""How a pair's weight falls with the distance between its words."""


def is_sparse(x: Any) -> bool:
    """True for a scipy.sparse matrix or array (a plain bool: no type narrowing to the sparse ABC)."""
    return bool(sp.issparse(x))


MAX_WINDOW = 2**31 - 1
"""The largest window: the counting kernels hold positions in 32-bit integers (a window longer than
every sentence counts whole sentences, so nothing larger is ever needed)."""

MAX_P = 4.0
"""The largest eigenvalue weight ``p``: ``S ** p`` overflows or drowns every component but the first
beyond it (``p = 150`` gave infinite and NaN vectors)."""


def check_window(window: Any) -> int:
    """A co-occurrence window: an integer >= 1 and at most :data:`MAX_WINDOW`."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    if window > MAX_WINDOW:
        raise ValueError(f"window must be at most {MAX_WINDOW}, got {window}")
    return int(window)


def check_positive(name: str, value: Any, allow_none: bool = False) -> int | None:
    """An integer >= 1 (or None, with ``allow_none``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= 1{extra}, got {value!r}")
    return int(value)


def check_float_dtype(dtype: Any) -> type[np.floating[Any]]:
    """``np.float32`` or ``np.float64`` from anything ``np.dtype`` reads as one of them."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be np.float32 or np.float64, not {dtype!r}") from None
    if dt == np.float32:
        return np.float32
    if dt == np.float64:
        return np.float64
    raise ValueError(f"dtype must be np.float32 or np.float64, got {dt}")


def check_real(name: str, value: Any, *, low: float, low_inclusive: bool, high: float | None = None) -> float:
    """A finite real number above ``low`` (or equal to it, with ``low_inclusive``) and at most ``high``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__} ({value!r})")
    v = float(value)
    bad = not math.isfinite(v) or (v < low if low_inclusive else v <= low) or (high is not None and v > high)
    if bad:
        bound = f"{'>=' if low_inclusive else '>'} {low:g}" + ("" if high is None else f" and <= {high:g}")
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return v


def check_weighting(
    weighting: Any, cds: Any, shift: Any, distance: Any, dim: Any, p: Any, add_context: Any, seed: Any
) -> None:
    """The weighting options of :func:`cooc.pretrain` and :meth:`cooc.Embeddings.reweight`."""
    if not isinstance(add_context, (bool, np.bool_)):
        raise TypeError(f"add_context must be True or False, not {add_context!r}")
    if add_context and dim is None:
        raise ValueError("add_context adds the SVD's context vectors: it needs dim (e.g. dim=300)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__} ({seed!r})")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(map(repr, WEIGHTINGS))}, not {weighting!r}")
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(map(repr, DISTANCES))}, not {distance!r}")
    check_real("cds", cds, low=0.0, low_inclusive=False, high=1.0)
    if shift is not None:
        if weighting == "count":
            raise ValueError("shift applies to weighting='ppmi' or 'sppmi', not to raw counts")
        check_real("shift", shift, low=1.0, low_inclusive=True)
    check_positive("dim", dim, allow_none=True)
    check_real("p", p, low=0.0, low_inclusive=True, high=MAX_P)


_PREFIXES = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_SUFFIXES = {1024: ("", "b", "ib"), 1000: ("",)}


def parse_size(name: str, value: Any, *, minimum: int = 1, base: int = 1024) -> int:
    """A size: an int, or a string like ``"256MB"``, ``"2GB"``, ``"1.5GiB"`` (``base`` 1024) or
    ``"10k"``, ``"2.5M"`` (``base`` 1000, for counts of things); at least ``minimum``.

    With base 1024 the unit is a prefix k, m, g or t, optionally followed by ``b`` or ``ib``
    (``"256m"``, ``"256MB"`` and ``"256MiB"`` are the same); with base 1000 it is the prefix alone.
    Case is ignored. ValueError naming ``name`` for anything else.

    Examples
    --------
    >>> parse_size("memory_limit", "1.5GiB")
    1610612736
    >>> parse_size("size", "2.5M", base=1000)
    2500000
    """
    example = "'256MB' or '2GB'" if base == 1024 else "'10k' or '2.5M'"
    bad = f"{name} must be a size like {example} or a whole number, got {value!r}"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(bad)
    if isinstance(value, (int, np.integer)):
        n = int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*", value)
        unit = m.group(2).lower() if m else ""
        prefix, suffix = unit[:1], unit[1:]
        if prefix == "b" and base == 1024:
            prefix, suffix = "", unit
        if not m or prefix not in _PREFIXES or suffix not in _SUFFIXES[base]:
            raise ValueError(bad)
        exact = float(m.group(1)) * base ** _PREFIXES[prefix]
        if not math.isfinite(exact):
            raise ValueError(bad)
        if base == 1000 and exact != int(exact):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        n = int(exact)
    else:
        raise ValueError(bad)
    if n < minimum:
        raise ValueError(f"{name} must be at least {_label(minimum, base)}, got {value!r}")
    return n


def _label(n: int, base: int) -> str:
    unit = "B" if base == 1024 else ""
    for prefix in ("T", "G", "M", "k"):
        scale = base ** _PREFIXES[prefix.lower()]
        if n >= scale and n % scale == 0:
            return f"{n // scale}{prefix if base == 1000 else prefix.upper()}{unit}"
    return f"{n}{' byte' + ('s' if n != 1 else '') if base == 1024 else ''}"
