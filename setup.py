"""Build the compiled kernels; every Cython directive is set here, once.

Environment switches (build time):

- ``COOC_PURE_PYTHON=1``   build no extension: the package runs on its pure-Python twins.
- ``COOC_CYTHON_DEBUG=1``  compile with bounds and wraparound checks on (debug test runs).
- ``CIBUILDWHEEL=1``       a wheel build: a failed compile is an error, never a silent fallback.

Without ``CIBUILDWHEEL``, a missing compiler is reported and the install goes on with the pure twins.
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

DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
}

# No -march=native and no -ffast-math: wheels run on any CPU of their platform, and the kernels must
# round exactly like the pure-Python twins (no fused multiply-add contraction either).
if sys.platform == "win32":
    COMPILE_ARGS = ["/O2", "/fp:precise"]
else:
    COMPILE_ARGS = ["-O3", "-ffp-contract=off", "-fno-fast-math"]
    if DEBUG:
        COMPILE_ARGS = ["-O0", "-g", "-ffp-contract=off"]


def extensions():
    if PURE:
        return []
    from Cython.Build import cythonize
    import numpy

    ext = Extension(
        "cooc._kernels_c",
        ["src/cooc/_kernels_c.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=COMPILE_ARGS,
    )
    return cythonize([ext], compiler_directives=DIRECTIVES, quiet=True)


class OptionalBuildExt(build_ext):
    """Fall back to the pure-Python twins when the compiler fails, unless the build is a wheel build."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self._fallback(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._fallback(exc)

    def _fallback(self, exc):
        if MANDATORY:
            raise
        sys.stderr.write(
            "\n*** cooc: could not compile the Cython kernels (%s).\n"
            "*** cooc: installing the pure-Python backend; it gives the same results, much slower.\n\n"
            % (exc,)
        )


if PURE:
    sys.stderr.write("cooc: COOC_PURE_PYTHON=1 at build time: installing the pure-Python backend only\n")

setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
