"""Seeded synthetic data for :mod:`bench.knowledge`: clustered unit vectors and text.

Everything comes from ``numpy.random.default_rng(seed)``: every run, and every side of
a comparison, sees the same rows.

- **Vectors** (384-d, float32, unit length): 100 cluster centres drawn uniformly on the
  unit sphere (normalised standard normals). Each cluster also has its own random
  16-dimensional subspace (a 16 × 384 Gaussian basis). A point of cluster ``j`` is
  ``normalise(centre_j + 0.25 · z · B_j + 0.005 · ε)`` with ``z ~ N(0, I₁₆)`` and
  ``ε ~ N(0, I₃₈₄)``: clustered, and of low intrinsic dimension within a cluster, as
  real sentence embeddings are (isotropic noise alone in 384 dimensions would make all
  neighbours of a point almost equally far, which no real model produces). A chunk's
  cosine similarity to its own centre is ~0.7, to another centre ~0.
- **Text**: a vocabulary of 5,000 made-up words (syllable strings) with Zipf-like
  frequencies (weight ∝ 1/rank^1.1). Each cluster owns 10 words from the rarer half;
  a chunk is 40-70 background words plus 3 of its cluster's words (~400 characters).
- **Queries** are drawn like chunks (a cluster, a point of it), their text is 2 of the
  cluster's words. :func:`exact_top_k` is brute-force cosine over the rows a query may
  see: the ground truth for recall@k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DIMS = 384
CLUSTERS = 100
SUBSPACE = 16
SPREAD = 0.25  # scale of the in-cluster (subspace) component
NOISE = 0.005  # per-dimension isotropic noise
VOCAB = 5000
CLUSTER_WORDS = 10

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    vectors: Matrix  # (n, DIMS), unit rows
    clusters: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Queries:
    texts: list[str]
    vectors: Matrix


class _Generator:
    """The fixed parts: centres, subspaces, vocabulary, cluster words."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        centres = rng.standard_normal((CLUSTERS, DIMS))
        self.centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)
        self.bases = (rng.standard_normal((CLUSTERS, SUBSPACE, DIMS)) / np.sqrt(DIMS)).astype(
            np.float32
        )
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        words: set[str] = set()
        while len(words) < VOCAB:
            k = int(rng.integers(2, 5))
            words.add("".join(syllables[int(i)] for i in rng.integers(0, len(syllables), k)))
        vocab = sorted(words)
        order = rng.permutation(VOCAB)
        self.vocab = [vocab[int(i)] for i in order]
        weights = 1.0 / np.arange(1, VOCAB + 1) ** 1.1
        self.weights = weights / weights.sum()
        rare = np.arange(VOCAB // 2, VOCAB)
        self.cluster_words = [
            [self.vocab[int(i)] for i in rng.choice(rare, CLUSTER_WORDS, replace=False)]
            for _ in range(CLUSTERS)
        ]

    def vectors(self, rng: np.random.Generator, clusters: npt.NDArray[np.int64]) -> Matrix:
        n = len(clusters)
        z = rng.standard_normal((n, SUBSPACE), dtype=np.float32)
        x = NOISE * rng.standard_normal((n, DIMS), dtype=np.float32)
        x += self.centres[clusters]
        for j in range(CLUSTERS):
            mine = np.flatnonzero(clusters == j)
            x[mine] += SPREAD * (z[mine] @ self.bases[j])
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def texts(self, rng: np.random.Generator, clusters: npt.NDArray[np.int64]) -> list[str]:
        counts = rng.integers(40, 71, len(clusters)).tolist()
        background: list[int] = rng.choice(VOCAB, sum(counts), p=self.weights).tolist()
        picks = np.argsort(rng.random((len(clusters), CLUSTER_WORDS)), axis=1)[:, :3].tolist()
        out, at = [], 0
        for c, count, pick in zip(clusters.tolist(), counts, picks, strict=True):
            words = [self.vocab[j] for j in background[at:at + count]]
            at += count
            words += [self.cluster_words[c][j] for j in pick]
            out.append(" ".join(words))
        return out


def corpus(n: int, *, seed: int = 2024) -> Corpus:
    """``n`` chunks: text, unit vectors, cluster of each."""
    gen = _Generator(seed)
    rng = np.random.default_rng(seed + 1)
    clusters = rng.integers(0, CLUSTERS, n)
    return Corpus(gen.texts(rng, clusters), gen.vectors(rng, clusters), clusters)


def queries(n: int, *, seed: int = 2024) -> Queries:
    """``n`` queries from the same clusters as :func:`corpus` (same seed)."""
    gen = _Generator(seed)
    rng = np.random.default_rng(seed + 2)
    clusters = rng.integers(0, CLUSTERS, n)
    texts = [" ".join(rng.choice(gen.cluster_words[c], 2, replace=False).tolist())
             for c in clusters.tolist()]
    return Queries(texts, gen.vectors(rng, clusters))


def exact_top_k(vectors: Matrix, rows: npt.NDArray[np.int64], q: Matrix, k: int) -> list[set[int]]:
    """Per query, the ``k`` rows (numbers into ``vectors``) of ``rows`` nearest by cosine
    (all of ``rows`` when there are no more than ``k``)."""
    k = min(k, len(rows))  # a tenant with fewer rows: all of them
    sims = q @ vectors[rows].T  # unit vectors: dot product = cosine similarity
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return [{int(rows[j]) for j in line} for line in top]


def recall(found: list[list[int]], exact: list[set[int]]) -> float:
    """Mean fraction of the exact top-k found (recall@k)."""
    return float(np.mean([len(set(f) & e) / len(e) for f, e in zip(found, exact, strict=True)]))
