"""Build the compiled kernels; every Cython directive is set here, once.

Environment switches (build time):

- ``COOC_PURE_PYTHON=1``    build no extension: the package runs on its pure-Python twins.
- ``COOC_CYTHON_DEBUG=1``   compile with bounds and wraparound checks on (debug test runs).
- ``CIBUILDWHEEL=1``        a wheel build: a failed compile is an error, never a silent fallback.
- ``COOC_REQUIRE_CYTHON=1`` the same, outside cibuildwheel (CI, packagers).

Without ``CIBUILDWHEEL`` / ``COOC_REQUIRE_CYTHON``, a missing or broken compiler (or a missing Cython in
a build without isolation) is reported and the install goes on with the pure twins; ``import cooc`` then
warns once that the compiled kernels are not built, and ``cooc.BACKEND == "python"``.

The ``.pyx`` modules of ``src/cooc/_ext/`` (one extension each, sharing the inline helpers of its
``.pxd``) are translated to C only when ``build_ext`` runs, into ``build/cython/``: an sdist never
contains generated C, and the source tree stays clean.

No OpenMP: the kernels are single-threaded loops that release the GIL; parallelism comes from Python
threads calling them (``cooc.pretrain(..., n_jobs=...)``), so the same code builds on every platform.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("COOC_CYTHON_DEBUG")
PURE = _flag("COOC_PURE_PYTHON")
MANDATORY = _flag("CIBUILDWHEEL") or _flag("COOC_REQUIRE_CYTHON")

#: the compiled kernel modules, one concern each (cooc._ext.<name>, from src/cooc/_ext/<name>.pyx)
MODULES = ("tokenize", "count", "neighbors", "linalg")

DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    # Free-threaded CPython (3.13t, 3.14t): the modules do not need the GIL. Every kernel allocates
    # its outputs in Python, then loops under nogil on its own buffers and on read-only views of its
    # inputs; the only module state (a Latin-1 letter table) is written once at import. A WordTable
    # is mutable state and is documented as one table per thread (its encode already runs without
    # the GIL on regular builds). tests/test_packaging.py runs the kernels from several threads.
    "freethreading_compatible": True,
}

# No -march=native and no -ffast-math: wheels run on any CPU of their platform, and the kernels must
# round exactly like the pure-Python twins (no fused multiply-add contraction either).
if sys.platform == "win32":
    COMPILE_ARGS = ["/O2", "/fp:precise"]
else:
    # -g0: no debug info in released binaries (Python's own CFLAGS may carry -g); it halves the wheel.
    COMPILE_ARGS = ["-O3", "-g0", "-ffp-contract=off", "-fno-fast-math"]
    if DEBUG:
        COMPILE_ARGS = ["-O0", "-g", "-ffp-contract=off"]


def _extension(name):
    return Extension(
        f"cooc._ext.{name}",
        [f"src/cooc/_ext/{name}.pyx"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=COMPILE_ARGS,
    )


def _extensions():
    return [_extension(name) for name in MODULES]


def _cythonize(ext, force):
    """Translate the extension's .pyx to C in build/cython/ (needs Cython and numpy: build requirements)."""
    import numpy
    from Cython.Build import cythonize

    if not any(src.endswith(".pyx") for src in ext.sources):
        return
    (translated,) = cythonize(
        [_extension(ext.name.rsplit(".", 1)[1])],
        compiler_directives=DIRECTIVES,
        build_dir=os.path.join("build", "cython"),
        include_path=["src"],
        force=force,
        quiet=True,
    )
    ext.sources = list(translated.sources)
    ext.include_dirs = [*ext.include_dirs, numpy.get_include()]


class OptionalBuildExt(build_ext):
    """Cythonize, then compile; fall back to the pure-Python twins on failure unless MANDATORY.

    A compile error reaches ``run`` (the extension is not ``optional``), so it is handled once, here.
    """

    def run(self):
        # Neither Cython nor build_ext notices a change of directives or flags: after a switch between
        # debug and release builds in the same tree, translate and compile everything again.
        stamp = os.path.join(self.build_temp, "cooc-build-mode")
        mode = "debug" if DEBUG else "release"
        try:
            with open(stamp) as fh:
                self.force = self.force or fh.read() != mode
        except OSError:
            self.force = True
        try:
            for ext in self.extensions:
                _cythonize(ext, self.force)
            super().run()
        except Exception as exc:  # noqa: BLE001 - a missing Cython or numpy, any compiler failure
            self._fallback(exc)
            return
        os.makedirs(self.build_temp, exist_ok=True)
        with open(stamp, "w") as fh:
            fh.write(mode)

    def _fallback(self, exc):
        if MANDATORY:
            sys.stderr.write(
                "\n*** cooc: the compiled kernels are mandatory in this build (CIBUILDWHEEL or "
                f"COOC_REQUIRE_CYTHON is set) and could not be built: {exc}\n\n"
            )
            raise exc
        self.extensions[:] = []
        sys.stderr.write(
            f"\n*** cooc: could not build the compiled kernels ({type(exc).__name__}: {exc}).\n"
            "*** cooc: installing the pure-Python backend: same results, much slower.\n"
            "*** cooc: `import cooc` will warn about it, and cooc.BACKEND will be 'python'.\n"
            "*** cooc: install a C compiler and reinstall (pip install --no-cache-dir ...) for speed.\n\n"
        )


if PURE:
    # An explicit request wins over CIBUILDWHEEL / COOC_REQUIRE_CYTHON (which only forbid a silent fallback).
    sys.stderr.write("cooc: COOC_PURE_PYTHON=1 at build time: installing the pure-Python backend only\n")

# The placeholders list each .pyx as its extension's source (so the sdist ships it) and marks the
# distribution as having extensions (platform wheel tags); build_ext above cythonizes them.
setup(
    ext_modules=[] if PURE else _extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
)
