"""Seeded benchmark data: chat messages, a chunk corpus with vectors, queries, exact top-k.

Everything comes from ``numpy.random.default_rng(seed)``, so every run (and every side
of a run) sees the same data.

- Text is drawn from a vocabulary of 4,000 made-up words with Zipf-like frequencies
  (weight ∝ 1/rank^1.1), like natural language: a few words everywhere, most rare.
- The corpus has ``topics`` topics. Each chunk belongs to one; its text mixes 4 of the
  topic's 12 words with 40-70 background words; its vector is ``normalize(z W + ε)``
  with ``z = centre(topic) + u`` in a 32-dimensional latent space (u ~ N(0, 0.6²)),
  ``W`` a fixed random 32×384 map and ε small isotropic noise (σ = 0.02 per
  dimension). Real embeddings have that shape: low intrinsic dimension, clustered by
  topic; uniform random 384-d vectors would make every neighbour equally far.
- Tenants: row ``i`` belongs to the small tenant when ``i % 100 == 0`` (exactly 1%),
  else to the big one (99%).
- Queries are drawn like chunks (a topic, a latent point, 2 of the topic's words);
  :func:`exact_top_k` is brute force over the rows a query may see (cosine =
  dot product of unit vectors), the ground truth for recall@k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BIG", "SMALL", "Corpus", "Queries", "corpus", "exact_top_k", "messages", "queries"]

BIG, SMALL = "acme", "small"  # the two tenants of the corpus
LATENT = 32
VOCAB = 4000
TOPIC_WORDS = 12

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    vectors: Matrix  # (n, dims), unit rows, float32
    tenants: list[str]  # BIG or SMALL per row
    topics: npt.NDArray[np.int64]

    def rows_of(self, tenant: str | None) -> npt.NDArray[np.int64]:
        """Row numbers a search in ``tenant`` sees (``None``: every row)."""
        if tenant is None:
            return np.arange(len(self.texts))
        return np.flatnonzero(np.array([t == tenant for t in self.tenants]))


@dataclass(frozen=True)
class Queries:
    texts: list[str]  # two topic words each (for hybrid search)
    vectors: Matrix


class _Model:
    """The generator's fixed parts: vocabulary, topic centres and words, the map W."""

    def __init__(self, seed: int, topics: int, dims: int) -> None:
        rng = np.random.default_rng(seed)
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        words: set[str] = set()
        while len(words) < VOCAB:
            k = int(rng.integers(2, 5))
            words.add("".join(syllables[int(i)] for i in rng.integers(0, len(syllables), k)))
        self.vocab = np.array(sorted(words))
        rng.shuffle(self.vocab)
        weights = 1.0 / np.arange(1, VOCAB + 1) ** 1.1
        self.weights = weights / weights.sum()
        self.centres = rng.standard_normal((topics, LATENT))
        # topic words come from the rarer half of the vocabulary: they discriminate
        rare = np.arange(VOCAB // 2, VOCAB)
        self.topic_words: list[list[str]] = [
            self.vocab[rng.choice(rare, TOPIC_WORDS, replace=False)].tolist() for _ in range(topics)
        ]
        self.w = rng.standard_normal((LATENT, dims)) / np.sqrt(LATENT)
        self.dims = dims

    def vectors(self, rng: np.random.Generator, topics: npt.NDArray[np.int64]) -> Matrix:
        z = self.centres[topics] + 0.6 * rng.standard_normal((len(topics), LATENT))
        x = z @ self.w + 0.02 * rng.standard_normal((len(topics), self.dims), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out: Matrix = x.astype(np.float32)
        return out

    def texts(self, rng: np.random.Generator, topics: npt.NDArray[np.int64], lo: int, hi: int,
              n_topic: int) -> list[str]:
        """One text per entry of ``topics``: ``lo``..``hi`` background words (Zipf), then
        ``n_topic`` of the topic's words."""
        vocab: list[str] = self.vocab.tolist()
        counts = rng.integers(lo, hi + 1, len(topics)).tolist()
        background: list[int] = rng.choice(VOCAB, sum(counts), p=self.weights).tolist()
        picks = np.argsort(rng.random((len(topics), TOPIC_WORDS)), axis=1)[:, :n_topic].tolist()
        out, at = [], 0
        for topic, count, pick in zip(topics.tolist(), counts, picks, strict=True):
            words = [vocab[j] for j in background[at:at + count]]
            at += count
            words += [self.topic_words[topic][j] for j in pick]
            out.append(" ".join(words))
        return out


def corpus(n: int, *, dims: int = 384, topics: int = 200, seed: int = 42) -> Corpus:
    """``n`` chunks: text, unit vectors, tenants (1% small), topics."""
    model = _Model(seed, topics, dims)
    rng = np.random.default_rng(seed + 1)
    topic_of = rng.integers(0, topics, n)
    vectors = model.vectors(rng, topic_of)
    texts = [f"{t} (chunk {i})" for i, t in enumerate(model.texts(rng, topic_of, 40, 70, 4))]
    tenants = [SMALL if i % 100 == 0 else BIG for i in range(n)]
    return Corpus(texts, vectors, tenants, topic_of)


def queries(n: int, *, dims: int = 384, topics: int = 200, seed: int = 42) -> Queries:
    """``n`` queries from the same generator as :func:`corpus` (same seed, same topics)."""
    model = _Model(seed, topics, dims)
    rng = np.random.default_rng(seed + 2)
    topic_of = rng.integers(0, topics, n)
    texts: list[str] = []
    for t in topic_of.tolist():  # distinct texts: a text names its query
        text = ""
        while not text or text in texts:
            text = " ".join(rng.choice(model.topic_words[t], 2, replace=False).tolist())
        texts.append(text)
    return Queries(texts, model.vectors(rng, topic_of))


def exact_top_k(data: Corpus, rows: npt.NDArray[np.int64], q: Matrix, k: int) -> list[set[int]]:
    """For each query, the ``k`` rows (corpus row numbers) nearest by cosine, exactly."""
    sims = q @ data.vectors[rows].T  # unit vectors: cosine similarity
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return [{int(rows[j]) for j in line} for line in top]


def messages(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` chat messages (role alternating user/assistant, 100-600 characters)."""
    model = _Model(seed, 1, 8)
    rng = np.random.default_rng(seed + 3)
    texts = model.texts(rng, np.zeros(n, dtype=np.int64), 15, 90, 0)
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t}
            for i, t in enumerate(texts)]
