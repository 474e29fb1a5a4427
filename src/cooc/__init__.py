"""cooc: exact, fast word co-occurrence representations.

The two-stage paradigm of the reference "Pretraining vs Fine-Tuning", as a library:

- :func:`pretrain` counts windowed co-occurrences and L2-normalizes rows into :class:`Embeddings`;
- :func:`document_vector`, :class:`NearestCentroid` and :func:`classify` use them for classification;
- :func:`analyze` compares similarity within and between groups of words.

The counting, normalization and cosine kernels are compiled (Cython) with pure-Python twins;
``cooc.BACKEND`` says which runs (``COOC_PURE_PYTHON=1`` forces the twins).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version
from typing import Any

from . import _backend
from .analyze import GroupSimilarity, analyze
from .classify import NearestCentroid, classify, document_vector
from .corpus import LineCorpus
from .embeddings import Embeddings, pretrain, random_embeddings
from .finetune import FineTunedClassifier
from .io import ModelFileError, load
from .text import STOPWORDS, preprocess, tokenize

try:
    __version__ = _version("cooc")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "BACKEND",
    "STOPWORDS",
    "Embeddings",
    "FineTunedClassifier",
    "GroupSimilarity",
    "LineCorpus",
    "ModelFileError",
    "NearestCentroid",
    "analyze",
    "classify",
    "document_vector",
    "load",
    "preprocess",
    "pretrain",
    "random_embeddings",
    "tokenize",
]


def __getattr__(name: str) -> Any:
    if name == "BACKEND":
        return _backend.BACKEND
    raise AttributeError(f"module 'cooc' has no attribute {name!r}")
