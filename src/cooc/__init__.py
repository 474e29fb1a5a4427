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
from typing import TYPE_CHECKING, Any

from . import _backend
from .analyze import GroupSimilarity, analyze
from .classify import classify, document_vector
from .corpus import LineCorpus
from .embeddings import Embeddings, Recipe, load, load_word2vec_format, merge
from .io import ModelFileError
from .pretrain import pretrain, random_embeddings
from .text import STOPWORDS, preprocess, tokenize

if TYPE_CHECKING:
    from .finetune import FineTunedClassifier, NearestCentroid, load_classifier, save_classifier
    from .vectorize import DocumentVectorizer

try:
    __version__ = _version("cooc")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "BACKEND",
    "DocumentVectorizer",
    "STOPWORDS",
    "Embeddings",
    "FineTunedClassifier",
    "GroupSimilarity",
    "LineCorpus",
    "ModelFileError",
    "NearestCentroid",
    "Recipe",
    "analyze",
    "classify",
    "document_vector",
    "load",
    "load_classifier",
    "load_word2vec_format",
    "merge",
    "preprocess",
    "pretrain",
    "random_embeddings",
    "save_classifier",
    "tokenize",
]


# The estimators inherit scikit-learn's base classes where it is installed; importing scikit-learn
# costs about a second, so they are imported on first use.
_ESTIMATORS = {"DocumentVectorizer": "vectorize", "FineTunedClassifier": "finetune", "NearestCentroid": "finetune",
               "load_classifier": "finetune", "save_classifier": "finetune"}


def __getattr__(name: str) -> Any:
    if name == "BACKEND":
        return _backend.BACKEND
    if name in _ESTIMATORS:
        import importlib

        return getattr(importlib.import_module(f".{_ESTIMATORS[name]}", __name__), name)
    raise AttributeError(f"module 'cooc' has no attribute {name!r}")
