"""Count-based baseline for lab 7 (issue 12): PPMI + truncated SVD on the lab's corpus.

The same tokens as the lab and gensim (the lab's --dump-corpus file), the same vocabulary
(words seen at least --min-count times, ordered by count, ties in order of first
appearance), the same window. Co-occurrences within a sentence at distance d <= window are
weighted (window - d + 1) / window, the average weight word2vec's randomly shrunk window
gives them; positive PMI with the context counts raised to 0.75 (Levy, Goldberg and Dagan
2015); vectors U * sqrt(S) of a rank-`dim` SVD. Evaluated exactly as gensim_word2vec.py
evaluates both word2vec models (WordSim-353, Google analogies in the 30,000 most frequent
words), so the three compare:

    /tmp/tfvenv/bin/python bench/ppmi_svd.py /tmp/imdb-w2v.txt      # prints one JSON line

Needs numpy, scipy and gensim (for the evaluation files and functions).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gensim_word2vec import evaluate  # noqa: E402  (the same tests for every model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="the lab's --dump-corpus file")
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--cds", type=float, default=0.75, help="context distribution smoothing")
    parser.add_argument("--words", default="good,bad,great,movie,actor,funny,boring,music")
    args = parser.parse_args()
    start = time.perf_counter()

    counts = {}
    for line in open(args.corpus, encoding="utf-8"):
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1  # dicts keep first-appearance order
    # Sorted by count, descending; Python's sort is stable, so ties keep first appearance.
    vocab = [w for w, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= args.min_count]
    index = {w: i for i, w in enumerate(vocab)}
    ids, sentence = [], []
    for s, line in enumerate(open(args.corpus, encoding="utf-8")):
        kept = [index[w] for w in line.split() if w in index]
        ids.extend(kept)
        sentence.extend([s] * len(kept))
    ids = np.asarray(ids, dtype=np.int32)
    sentence = np.asarray(sentence, dtype=np.int32)
    v = len(vocab)

    cooc = sparse.csr_matrix((v, v), dtype=np.float64)
    for d in range(1, args.window + 1):
        same = sentence[:-d] == sentence[d:]
        a, b = ids[:-d][same], ids[d:][same]
        w = np.full(len(a), (args.window - d + 1) / args.window)
        both = sparse.coo_matrix(
            (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(v, v)
        ).tocsr()
        cooc = cooc + both
    cooc = cooc.tocoo()

    total = cooc.data.sum()
    row = np.asarray(cooc.sum(axis=1)).ravel()
    col = np.asarray(cooc.sum(axis=0)).ravel() ** args.cds
    pmi = np.log(cooc.data * col.sum() / (row[cooc.row] * col[cooc.col]))
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (cooc.row[keep], cooc.col[keep])), shape=(v, v))
    u, s, _ = svds(ppmi.astype(np.float32), k=args.dim)
    vectors = (u * np.sqrt(s)).astype(np.float32)

    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=args.dim)
    kv.add_vectors(vocab, vectors)
    report = {
        "what": "PPMI + SVD",
        "settings": vars(args),
        "vocabulary": v,
        "tokens": int(len(ids)),
        "cooccurrence_nonzeros": int(cooc.nnz),
        "ppmi_nonzeros": int(ppmi.nnz),
        "weighted_pairs": round(float(total)),
        "seconds": round(time.perf_counter() - start, 1),
    }
    report |= evaluate(kv, [w for w in args.words.split(",") if w])
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
