"""Relevance of the KB scorer on StackFAQ (MRR@10 and Recall@5, halves A and B).

One article per thread (title = question, body = answers joined); the queries are the
paraphrases, half A before the ``*`` marker (tuning), half B after it (held out).

The data is read from the shared evaluation folder next to the repository, or from
``$CASELIB_STACKFAQ``; it is never copied into the repository.

Usage::

    PYTHONPATH=src python benchmarks/eval_kb.py            # defaults (what a host gets)
    PYTHONPATH=src python benchmarks/eval_kb.py --variants # plus the reference variants
"""

from __future__ import annotations

import argparse
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from caselib.kb import Article, FieldSettings, KbIndex, KbSettings

XML_NAME = "stackExchange-FAQ.xml"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

Query = tuple[str, str]  # (text, relevant article id)


def data_dir() -> Path:
    """Where StackFAQ lives: ``$CASELIB_STACKFAQ`` or ``<repo>/../shared/eval/stackfaq``."""
    env = os.environ.get("CASELIB_STACKFAQ")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared/eval/stackfaq"


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
    rr = 0.0
    hits5 = 0
    for text, relevant in queries:
        ranked = [s.article_id for s in index.search(text, limit=10)]
        if relevant in ranked:
            rank = ranked.index(relevant) + 1
            rr += 1.0 / rank
            hits5 += rank <= 5
    return rr / len(queries), hits5 / len(queries)


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
        "BM25 k1=4.5 b=0.9, title x2": KbSettings(
            k1=4.5,
            title=FieldSettings(weight=2.0, b=0.9),
            tags=FieldSettings(weight=1.0, b=0.9),
            body=FieldSettings(weight=1.0, b=0.9),
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", action="store_true", help="also run reference variants")
    args = parser.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
