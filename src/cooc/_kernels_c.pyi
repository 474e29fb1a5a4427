"""Type stub of the compiled kernels ``cooc._kernels_c``.

Names and signatures equal the pure-Python twins in ``cooc._kernels_py`` (tests/test_packaging.py checks
it). Inputs are trusted, C-contiguous arrays of the stated dtypes: ``cooc._kernels`` validates and converts
them before either twin runs.
"""

from typing import Any
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "cooccurrence_csr",
    "normalize_rows_l2",
    "topk_cosine",
    "cosine_dense",
    "WordTable",
    "csr_add",
    "topk_cosine_sparse",
    "row_norms",
    "ppmi_csr",
    "topk_cosine_sparse_many",
    "topk_cosine_rows",
    "csr_matmat",
    "remap_ids",
]

def cooccurrence_csr(
    ids: NDArray[np.int32],
    offsets: NDArray[np.int64],
    n_words: int,
    window: int,
    n_threads: int = 1,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int64]]: ...
def normalize_rows_l2(
    indptr: NDArray[np.int64], data: NDArray[np.int64] | NDArray[np.float64], n_threads: int = 1
) -> NDArray[np.float64]: ...
def topk_cosine(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    query: NDArray[np.float64],
    k: int,
    exclude: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]: ...
def cosine_dense(a: NDArray[np.float64], b: NDArray[np.float64]) -> float: ...

class WordTable:
    """A growing vocabulary that turns text into word ids; one table per thread."""

    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    def encode(self, text: str) -> tuple[NDArray[np.int32], NDArray[np.int64]]: ...
    def merge(self, other_table: WordTable) -> NDArray[np.int32]: ...
    def prefix_keys(self) -> NDArray[np.uint64]: ...
    def words(self, ids: NDArray[np.int64] | list[int] | None = None) -> list[str]: ...
    def counts(self) -> NDArray[np.int64]: ...

def csr_add(
    indptr_a: NDArray[np.int64],
    indices_a: NDArray[np.int32],
    data_a: NDArray[np.int64],
    indptr_b: NDArray[np.int64],
    indices_b: NDArray[np.int32],
    data_b: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int64]]: ...
def topk_cosine_sparse(
    t_indptr: NDArray[np.int64],
    t_indices: NDArray[np.int32],
    t_data: NDArray[np.float64],
    row_norms: NDArray[np.float64],
    q_indices: NDArray[np.int32],
    q_data: NDArray[np.float64],
    k: int,
    exclude: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]: ...
def row_norms(indptr: NDArray[np.int64], data: NDArray[np.float64]) -> NDArray[np.float64]: ...
def topk_cosine_rows(
    vectors: NDArray[np.float64], query: NDArray[np.float64], k: int, exclude: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]: ...
def topk_cosine_sparse_many(
    t_indptr: NDArray[np.int64],
    t_indices: NDArray[np.int32],
    t_data: NDArray[np.float64],
    row_norms: NDArray[np.float64],
    q_indptr: NDArray[np.int64],
    q_indices: NDArray[np.int32],
    q_data: NDArray[np.float64],
    k: int,
    exclude: NDArray[np.int64],
    n_threads: int = 1,
    dense_cols: NDArray[np.int32] | None = None,
    dense: NDArray[np.float64] | None = None,
    screen: tuple[Any, ...] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]: ...
def ppmi_csr(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    row_sums: NDArray[np.float64],
    col_probs: NDArray[np.float64],
    log_shift: float,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]: ...
def csr_matmat(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float32],
    x: NDArray[np.float32],
    n_threads: int = ...,
) -> NDArray[np.float32]: ...
def remap_ids(
    ids: NDArray[np.int32], offsets: NDArray[np.int64], mapping: NDArray[np.int32]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]: ...
