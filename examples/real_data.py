"""The issue-5 table, measured with cooc on gensim's real test data (pip install 'cooc[eval]').

Corpus (cooc.evaluate.real_corpus): gensim's Lee news corpus (one document per line) + the 106
articles of its English Wikipedia excerpt (markup removed by gensim's filter_wiki, one article per
context unit, tokens of at least 2 letters, as gensim's WikiCorpus gives them); window 3, min_count 5.
Word similarity: WordSim353 (Spearman). Classification: Pang & Lee polarity, 200 sentences (cp1252),
10-fold cross-validation repeated with 10 seeds, mean accuracy +- 95% interval. gensim's word2vec
skip-gram (sg=1, window 3, min_count 5, seed 1, one worker) is trained on the same token lists.

    python examples/real_data.py [--seeds 10] [--folds 10] [--no-word2vec]

The same table: ``cooc evaluate real-data``.
"""

from __future__ import annotations

import argparse
import sys
import time

import cooc
from cooc.evaluate import format_real_table, real_data_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--no-word2vec", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    result = real_data_table(folds=args.folds, seeds=args.seeds, word2vec=not args.no_word2vec,
                             progress=lambda s: print(s, file=sys.stderr, flush=True))
    print(format_real_table(result))
    print(f"\nbackend {cooc.BACKEND}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
