"""A well-written numpy/scipy co-occurrence baseline, for comparison in the benchmarks.

Split on whitespace per line, dict ids, pair arrays per window offset, coo -> csr, L2-normalize rows.
It does no Unicode-aware tokenizing (the corpus is generated lowercase ASCII), so it is the fastest
"obvious" way to do the job with the scientific Python stack.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def numpy_scipy_pretrain(path: str, window: int = 3) -> tuple[list[str], sp.csr_matrix, sp.csr_matrix]:
    index: dict[str, int] = {}
    ids: list[int] = []
    lengths: list[int] = []
    get = index.setdefault
    with open(path, encoding="utf-8") as f:
        for line in f:
            toks = line.split()
            ids.extend([get(t, len(index)) for t in toks])
            lengths.append(len(toks))
    tok = np.asarray(ids, dtype=np.int64)
    sent = np.repeat(np.arange(len(lengths)), lengths)
    rows, cols = [], []
    for d in range(1, window + 1):
        same = sent[:-d] == sent[d:]
        a, b = tok[:-d][same], tok[d:][same]
        rows += [a, b]
        cols += [b, a]
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    V = len(index)
    counts = sp.coo_matrix((np.ones(r.size, dtype=np.int64), (r, c)), shape=(V, V)).tocsr()
    counts.sum_duplicates()
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    vectors = sp.diags(1.0 / norms) @ counts
    return list(index), counts, sp.csr_matrix(vectors)
