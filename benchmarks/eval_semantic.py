"""The ``semantic`` extra against BM25 and BM25F: relevance per condition, the fusion constants
chosen by cross-validation, query latency at 10k articles, model size and index memory.

Run through ``benchmarks/eval_kb.py --semantic`` (needs ``pip install -e '.[semantic]'``), or
``benchmarks/eval_semantic.py --latency`` for the latency figures alone.

Relevance: for every condition of ``eval_kb.conditions()`` the test queries are ranked by plain
BM25 (rank_bm25), caselib's BM25F defaults, the embedding alone (cosine, all-MiniLM-L6-v2)
and the fusion. The fusion's constants (``k``, ``weight``) are picked from a grid by the rule
that picked the BM25F defaults (best *worst* margin over BM25F across conditions, ties within
0.005 by the mean), on the tuning queries; 5-fold cross-validation re-runs that rule on each
training part over all queries. The grid fuses precomputed top-``depth`` lists with
:func:`caselib.kb.rrf` (what the index calls); the final row is measured through
:class:`KbIndex` with the chosen settings, and checked against the grid.

Latency: the 10k synthetic corpus of ``bench_kb.py``; article vectors there are random unit
vectors (embedding 10k articles with a numpy forward pass takes ~25 min and does not change
what a query costs), query vectors are the model's. The floor is the model's raw ``embed``
call for one query: no fused search can be cheaper than it.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from caselib.kb import Article, KbIndex, KbSettings, SemanticSettings, rrf

DEPTH = 100
KS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0)
WEIGHTS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0)


class CachedEmbedder:
    """An :class:`~caselib.kb.Embedder` that remembers every text it embedded (conditions share
    queries and articles, so each text is embedded once per run)."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.name = base.name
        self.dimension = base.dimension
        self.cache: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.base.embed(missing), strict=True))
        return [self.cache[t] for t in texts]


Lists = list[tuple[list[tuple[str, float]], list[tuple[str, float]]]]


def rr_of(ranked: Sequence[str], relevant: str) -> float:
    top = list(ranked[:10])
    return 1.0 / (top.index(relevant) + 1) if relevant in top else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def run_semantic(conds: Sequence[Any], eval_kb: Any) -> None:
    from caselib.adapters import MiniLmEmbedder, NumpyVectors, minilm_path

    embedder = CachedEmbedder(MiniLmEmbedder())
    print(f"\nsemantic extra: {embedder.name} ({embedder.dimension}-d), fusion depth {DEPTH}")
    per_cond: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for cond in conds:
        queries = [*cond.tune, *cond.test]
        index = KbIndex.build(cond.articles)
        vectors = NumpyVectors(embedder.dimension)
        texts = [_article_text(a) for a in cond.articles]
        for article, vector in zip(cond.articles, embedder.embed(texts), strict=True):
            vectors.put(article.id, _unit(vector))
        qvecs = embedder.embed([q for q, _ in queries])
        lists: Lists = []
        for (text, _), qv in zip(queries, qvecs, strict=True):
            hits = index.search(text, limit=DEPTH)
            lists.append(([(h.article_id, h.score) for h in hits], vectors.nearest(qv, DEPTH)))
        bm25 = eval_kb.reciprocal_ranks(eval_kb.bm25_ranker(cond.articles), queries)
        relevant = [r for _, r in queries]
        per_cond[cond.name] = {
            "cond": cond,
            "n_tune": len(cond.tune),
            "relevant": relevant,
            "lists": lists,
            "bm25": bm25,
            "bm25f": [rr_of([a for a, _ in t], r) for (t, _), r in zip(lists, relevant,
                                                                         strict=True)],
            "vector": [rr_of([a for a, _ in v], r) for (_, v), r in zip(lists, relevant,
                                                                         strict=True)],
        }
        print(f"  {cond.name}: {len(cond.articles)} articles, {len(queries)} queries embedded "
              f"({time.perf_counter() - started:.0f} s so far)")

    grid = [(k, w) for k in KS for w in WEIGHTS]
    fused: dict[tuple[float, float], dict[str, list[float]]] = {}
    for k, w in grid:
        fused[k, w] = {}
        for name, c in per_cond.items():
            fused[k, w][name] = [
                rr_of([a for a, _ in rrf(t, v, k=k, weight=w)], r)
                for (t, v), r in zip(c["lists"], c["relevant"], strict=True)
            ]

    def margins(select: Callable[[str, int], Sequence[int]]) -> dict[int, dict[str, float]]:
        out: dict[int, dict[str, float]] = {}
        for i, key in enumerate(grid):
            out[i] = {}
            for name, c in per_cond.items():
                rows = select(name, len(c["relevant"]))
                out[i][name] = (mean([fused[key][name][j] for j in rows])
                                - mean([c["bm25f"][j] for j in rows]))
        return out

    def tune_rows(name: str, n: int) -> list[int]:
        return list(range(per_cond[name]["n_tune"]))

    picked = grid[eval_kb.choose(margins(tune_rows))]
    print(f"  chosen on the tuning queries: k {picked[0]:g}, weight {picked[1]:g}")
    default = SemanticSettings(embedder)
    print(f"  SemanticSettings defaults: k {default.k:g}, weight {default.weight:g}")
    folds = 5
    held: dict[str, list[float]] = {n: [] for n in per_cond}
    for f in range(folds):
        key = grid[eval_kb.choose(margins(
            lambda name, n, f=f: [j for j in range(n) if j % folds != f]))]
        print(f"  fold {f}: k {key[0]:g}, weight {key[1]:g}")
        for name, c in per_cond.items():
            held[name].extend(fused[key][name][j] for j in range(len(c["relevant"]))
                              if j % folds == f)

    print(f"\nMRR@10 on the test queries (R@5), fused = k {picked[0]:g}, weight {picked[1]:g} "
          f"through KbIndex; CV = {folds}-fold cross-validated fusion over "
          "all queries\n"
          f"{'condition':18} {'BM25':>12} {'BM25F':>12} {'MiniLM':>12} {'fused':>12} "
          f"{'fused CV':>9} {'BM25F CV':>9}")
    worst_bm25 = worst_bm25f = 1.0
    for name, c in per_cond.items():
        t = c["n_tune"]
        cond = c["cond"]
        settings = KbSettings(semantic=SemanticSettings(
            embedder, vectors=NumpyVectors, k=picked[0], weight=picked[1], depth=DEPTH))
        index = KbIndex.build(cond.articles, settings)
        fused_rr = eval_kb.reciprocal_ranks(
            lambda text, index=index: [s.article_id for s in index.search(text, limit=10)],
            cond.test)
        grid_rr = fused[picked][name]
        assert abs(mean(grid_rr[t:]) - mean(fused_rr)) < 2e-3, (name, "index != grid")
        cells = []
        for rr in (c["bm25"][t:], c["bm25f"][t:], c["vector"][t:], fused_rr):
            cells.append(f"{mean(rr):6.3f} ({sum(x >= 0.2 for x in rr) / len(rr):.2f})")
        cv = mean(held[name])
        print(f"{name:18} {' '.join(cells)} {cv:9.3f} {mean(c['bm25f']):9.3f}")
        worst_bm25 = min(worst_bm25, mean(fused_rr) - mean(c["bm25"][t:]))
        worst_bm25f = min(worst_bm25f, mean(fused_rr) - mean(c["bm25f"][t:]))
    print(f"smallest margin of the fusion (test): over BM25 {worst_bm25:+.3f}, "
          f"over BM25F {worst_bm25f:+.3f}")
    folder = minilm_path()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"model on disk: {size / 2**20:.0f} MiB ({folder.name})")
    real = [q for q, _ in per_cond["stackfaq"]["cond"].test] if "stackfaq" in per_cond else []
    latency(embedder.base, real_queries=real)


def _article_text(a: Article) -> str:
    return "\n".join(part for part in (a.title, " ".join(a.tags), a.body) if part)


def _unit(vector: Sequence[float]) -> list[float]:
    norm = sum(x * x for x in vector) ** 0.5
    return [x / norm for x in vector]


class _RandomArticles:
    """Random unit vectors for articles (seeded by the text), the model for queries."""

    def __init__(self, model: Any) -> None:
        import numpy as np

        self.np = np
        self.model = model
        self.name = model.name
        self.dimension = model.dimension
        self.articles = True

    def embed(self, texts: Sequence[str]) -> Any:
        if not self.articles:
            return self.model.embed(texts)
        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            out.append(self.np.random.default_rng(seed).standard_normal(self.dimension))
        return out


def latency(model: Any, n: int = 10_000, n_queries: int = 200,
            real_queries: Sequence[str] = ()) -> None:
    import bench_kb

    from caselib.adapters import MiniLmEmbedder, NumpyVectors

    articles, zipf = bench_kb.corpus(n)
    queries = bench_kb.queries(zipf, n_queries + 20)
    fake = _RandomArticles(model)
    plain = KbIndex.build(articles)
    tracemalloc.start()
    index = KbIndex.build(articles, KbSettings(semantic=SemanticSettings(
        fake, vectors=NumpyVectors, depth=DEPTH)))
    fake.articles = False
    assert index._vectors is not None
    vectors_bytes = index._vectors.nbytes  # type: ignore[attr-defined]
    tracemalloc.stop()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _model = MiniLmEmbedder()
    model_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del _model

    cpu: dict[int, float] = {}

    def timed(fn: Callable[[str], object]) -> list[float]:
        """Wall-clock ms per query; the median CPU ms (all threads) goes to ``cpu``, which a
        machine shared with other jobs disturbs less than the wall clock."""
        for q in queries[:20]:
            fn(q)
        out, used = [], []
        for q in queries[20:]:
            t, c = time.perf_counter(), time.process_time()
            fn(q)
            out.append((time.perf_counter() - t) * 1e3)
            used.append((time.process_time() - c) * 1e3)
        cpu[id(out)] = statistics.median(used)
        return out

    print(f"\nlatency at {n:,} articles ({os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}), median ms:")
    sets = [("synthetic", queries)]
    if real_queries:
        sets.append(("StackFAQ B", list(real_queries[: n_queries + 20])))
    for label, qs in sets:
        queries = qs
        tokens = statistics.median(len(model.tokenizer.encode(q, 256)) for q in qs)
        floor = timed(lambda q: model.embed([q]))
        text = timed(lambda q: plain.search(q, limit=10))
        fused = timed(lambda q: index.search(q, limit=10))
        f, s, b = (statistics.median(x) for x in (floor, fused, text))
        p95 = sorted(fused)[int(0.95 * len(fused))]
        print(f"  {label} queries ({len(qs) - 20} timed, median {tokens:g} word pieces): "
              f"BM25F alone {b:.2f}; floor model.embed([query]) {f:.2f}; fused search "
              f"{s:.2f} (p95 {p95:.2f}); fused / floor {s / f:.2f}x; "
              f"fused / 10 ms target {s / 10:.2f}x; CPU ms: floor {cpu[id(floor)]:.2f}, "
              f"fused {cpu[id(fused)]:.2f}")
    print(f"  article vectors at {n:,}: {vectors_bytes / 2**20:.1f} MiB (float32 matrix, "
          f"grown by doubling); model in memory {model_bytes / 2**20:.0f} MiB")


def main() -> None:
    """``--latency``: only the latency figures (the relevance part embeds ~3,000 texts)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import eval_kb

    if "--latency" in sys.argv[1:]:
        from caselib.adapters import MiniLmEmbedder

        _, _, half_b = eval_kb.load()
        latency(MiniLmEmbedder(), real_queries=[q for q, _ in half_b])
        return
    run_semantic(eval_kb.conditions(), eval_kb)


if __name__ == "__main__":
    main()
