"""Speed and memory of the KB index on synthetic corpora, against rank_bm25.

Corpora: articles of a ~8-word title and a ~100-word body drawn from a Zipf vocabulary
(seeded RNG, so every run sees the same text). As in real English, the head of the Zipf curve
is function words: the 100 most frequent ranks are caselib's stop words, which the analyzer
drops, and the rest are made-up content words. Queries: 10 distinct content words drawn from
the same distribution (so they still mix rare and very common terms, like case text after stop
words are removed). rank_bm25's BM25Okapi scores every document for every query; at 100k it
gets the first 20 queries only (it takes ~0.5-1 s each), which the output says.

Usage::

    PYTHONPATH=src python benchmarks/bench_kb.py            # 10k and 100k
    PYTHONPATH=src python benchmarks/bench_kb.py --quick    # a tiny run (CI smoke)
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import accumulate

from caselib.kb import ENGLISH_STOP_WORDS, Article, KbIndex

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SYLLABLES = ["ka", "lo", "mi", "ner", "tu", "sa", "vo", "qui", "pel", "dra", "zen", "fo"]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """Distinct pronounceable words (stemming leaves most of them alone).

    2-4 syllables give at most 22,608 words, so larger vocabularies (100k articles want 50k)
    draw up to 5 syllables; before that fix the 100k run never finished. Sizes up to 10k keep
    the original words, so 10k figures stay comparable with earlier runs.
    """
    longest = 4 if size <= 10_000 else 5
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, longest))))
    return sorted(words)


class Zipf:
    """Draw words with probability ∝ 1 / rank^s; ``head`` takes the top ranks in order."""

    def __init__(
        self, head: Sequence[str], words: Sequence[str], s: float, rng: random.Random
    ) -> None:
        tail = list(words)
        rng.shuffle(tail)
        self.words = [*head, *tail]
        self.cum = list(accumulate(1.0 / (r**s) for r in range(1, len(self.words) + 1)))
        self.rng = rng

    def draw(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)


def corpus(n: int, seed: int = 7) -> tuple[list[Article], Zipf]:
    rng = random.Random(seed)
    head = sorted(ENGLISH_STOP_WORDS)[:100]
    zipf = Zipf(head, vocabulary(max(5_000, n // 2), rng), 1.07, rng)
    articles = [
        Article(
            id=f"kb-{i:06d}",
            title=" ".join(zipf.draw(rng.randint(4, 10))),
            body=" ".join(zipf.draw(rng.randint(80, 120))),
            category=f"cat{i % 8}",
            updated_at=_EPOCH,
        )
        for i in range(n)
    ]
    return articles, zipf


def queries(zipf: Zipf, count: int) -> list[str]:
    out = []
    for _ in range(count):
        words: list[str] = []
        while len(words) < 10:
            w = zipf.draw(1)[0]
            if w not in words and w not in ENGLISH_STOP_WORDS:
                words.append(w)
        out.append(" ".join(words))
    return out


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def timed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def cache_bytes(index: KbIndex) -> int:
    """Bytes held by the lazily filled search caches (per-posting float32 saturations)."""
    total = 0
    for term in index._postings.values():  # a benchmark may look inside
        for layer in (term.hi, term.lo):
            if layer.sat is not None:
                total += layer.sat.itemsize * len(layer.sat)
    return total


def run(n: int, n_queries: int, n_bm25: int) -> dict[str, float]:
    print(f"\n== {n:,} articles ==", flush=True)
    out: dict[str, float] = {"n": n}
    articles, zipf = corpus(n)
    qs = queries(zipf, n_queries)
    extra, _ = corpus(200, seed=99)
    extra = [
        Article(id=f"new-{i}", title=a.title, body=a.body, updated_at=_EPOCH)
        for i, a in enumerate(extra)
    ]

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    index = KbIndex.build(articles)
    traced = time.perf_counter() - t0
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    stats = index.stats
    out["memory"] = (after - before) / 2**20
    print(
        f"build traced    {traced:8.2f} s   ({stats.terms:,} terms, {stats.postings:,} postings, "
        f"index memory {out['memory']:,.0f} MiB incl. the analyzer cache; "
        f"timed under tracemalloc, several times slower than untraced)"
    )
    del index
    gc.collect()
    t0 = time.perf_counter()
    index = KbIndex.build(articles)
    out["build"] = time.perf_counter() - t0
    print(f"build untraced  {out['build']:8.2f} s")

    for q in qs[:20]:  # warm the analyzer cache as a long-running process would have
        index.search(q)
    lat = [timed(index.search, q) * 1e3 for q in qs]
    out["median"] = statistics.median(lat)
    out["p95"] = percentile(lat, 0.95)
    print(
        f"search top-10   median {out['median']:6.3f} ms  p95 {out['p95']:6.3f} ms"
        f"  ({len(qs)} queries of 10 terms; the first use of a term fills its cache)"
    )
    lat = [timed(index.search, q) * 1e3 for q in qs]
    out["median_warm"] = statistics.median(lat)
    out["p95_warm"] = percentile(lat, 0.95)
    print(f"  again (warm)  median {out['median_warm']:6.3f} ms  p95 {out['p95_warm']:6.3f} ms")
    out["cache"] = cache_bytes(index) / 2**20
    print(f"  search caches {out['cache']:6.1f} MiB (float32 per cached posting)")
    lat_f = [timed(lambda q: index.search(q, category="cat3", category_mode="filter"), q) * 1e3
             for q in qs[:200]]  # fmt: skip
    out["filter"] = statistics.median(lat_f)
    print(f"  with filter   median {out['filter']:6.3f} ms")
    lat_b = [timed(lambda q: index.search(q, category="cat3"), q) * 1e3 for q in qs[:200]]
    out["boost"] = statistics.median(lat_b)
    print(f"  with boost    median {out['boost']:6.3f} ms")

    adds = [timed(index.add, a) * 1e3 for a in extra]
    removes = [timed(index.remove, a.id) * 1e3 for a in extra]
    updates = [timed(index.update, a) * 1e3 for a in articles[:200]]
    for name, values in (("add", adds), ("remove", removes), ("update", updates)):
        out[name] = statistics.median(values)
        out[name + "_p95"] = percentile(values, 0.95)
        print(f"{name:<15} median {out[name]:6.3f} ms  p95 {out[name + '_p95']:6.3f} ms")
    lat = [timed(index.search, q) * 1e3 for q in qs[:200]]
    out["after_writes"] = statistics.median(lat)
    print(
        f"search after the 600 writes  median {out['after_writes']:6.3f} ms  "
        f"p95 {percentile(lat, 0.95):6.3f} ms"
    )

    try:
        from rank_bm25 import BM25Okapi
    except ImportError:
        print("rank_bm25 not installed; skipping the comparison")
        return out
    analyzer = index.analyzer
    t0 = time.perf_counter()
    tokenized = [analyzer.terms(a.title + "\n" + a.body) for a in articles]
    okapi = BM25Okapi(tokenized)
    print(f"rank_bm25 build {time.perf_counter() - t0:8.2f} s (tokenised with caselib's analyzer)")
    del tokenized
    sub = qs[:n_bm25]
    tq = [analyzer.terms(q) for q in sub]
    lat_r = []
    for terms in tq:
        t0 = time.perf_counter()
        scores = okapi.get_scores(terms)
        sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:10]
        lat_r.append((time.perf_counter() - t0) * 1e3)
    ours = statistics.median([timed(index.search, q) * 1e3 for q in sub])
    theirs = statistics.median(lat_r)
    out["bm25"] = theirs
    out["bm25_ours"] = ours
    out["ratio"] = theirs / ours
    print(
        f"rank_bm25       median {theirs:8.2f} ms over the first {len(sub)} queries; caselib on "
        f"the same queries {ours:.3f} ms -> {theirs / ours:,.0f}x faster"
    )
    return out


def summary(results: Sequence[dict[str, float]]) -> None:
    print("\n== summary (targets: search median <= 1 ms at 10k and <= 10 ms at 100k, "
          ">= 20x rank_bm25, add/remove <= 1 ms) ==")  # fmt: skip
    for r in results:
        n = int(r["n"])
        target = 1.0 if n <= 10_000 else 10.0
        checks = [
            f"search median {r['median']:.3f} ms "
            f"({'ok' if r['median'] <= target else 'MISSED'} <= {target:g} ms)",
            f"p95 {r['p95']:.3f} ms",
            f"add {r['add']:.3f} / remove {r['remove']:.3f} ms "
            f"({'ok' if max(r['add'], r['remove']) <= 1.0 else 'MISSED'} <= 1 ms)",
        ]
        if "ratio" in r:
            checks.append(
                f"rank_bm25 {r['ratio']:.0f}x ({'ok' if r['ratio'] >= 20 else 'MISSED'} >= 20x)"
            )
        print(f"{n:>9,}: " + "; ".join(checks))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny corpora, few queries")
    args = parser.parse_args(argv)
    # 200 timed queries at both sizes; rank_bm25 scores every document, so at 100k it gets
    # the first 20 queries only (~0.5-1 s each) and caselib is timed on the same 20.
    sizes = [(2_000, 50, 20)] if args.quick else [(10_000, 200, 200), (100_000, 200, 20)]
    results = [run(*size) for size in sizes]
    summary(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
