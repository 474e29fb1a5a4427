"""The ``cooc bench`` harness: generated corpora, baselines and timings, outside the library.

:mod:`cooc.bench.harness` measures each stage of cooc against its pure twins, a numpy/scipy baseline
and the dense reference (:mod:`cooc.bench.baselines`). Only the ``cooc bench`` command
(:mod:`cooc.cli.bench`) imports it; nothing in the library does.
"""
