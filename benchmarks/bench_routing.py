"""Routing throughput: the indexed router against the "evaluate every rule in order" loop.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_routing.py

For 10, 100 and 1,000 tenant rules it prints routes per second for :meth:`Router.route`
(indexed) and :meth:`Router.route_naive` (baseline), their ratio, and checks on every sampled
case that both give the same decision. The rule mix imitates a real tenant: mostly equality
and ``in`` tests on category / reason code / custom fields, some two-field ``all`` rules, a few
``prefix`` and ``exists`` tests and a rare ``not``. Target: at least 100,000 routes/s at 1,000
rules on one core.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from caselib.routing import (
    AllOf,
    Condition,
    Equals,
    Exists,
    Facts,
    FallbackMap,
    In,
    Not,
    Prefix,
    RouteDecision,
    Router,
    Rule,
    Target,
)

CATEGORIES = [
    "Billing",
    "Technical",
    "Shipping",
    "Returns",
    "Account",
    "Installation",
    "Warranty",
    "Onboarding",
    "Security",
    "Integrations",
    "Reporting",
    "Hardware",
    "Field Service",
    "Training",
    "Other",
]
REASONS = [f"reason_{i:02d}" for i in range(36)] + [
    "missing_part",
    "wrong_item",
    "site_not_ready",
    "access_issue",
]
REGIONS = [f"{area}-{n}" for area in ("eu", "us", "ap", "sa", "af") for n in range(1, 7)]
PRODUCTS = [f"P-{n:04d}" for n in range(1000)]
ACCOUNTS = [f"ACME-{n:04d}" for n in range(1000)]
PLANS = ["free", "starter", "team", "business", "enterprise"]
TIERS = ["bronze", "silver", "gold", "platinum"]
PRIORITIES = ["low", "normal", "high", "urgent"]
SOURCES = ["email", "web", "phone", "chat", "api"]
TAGS = ["vip", "churn-risk", "outage", "legal", "press", "partner", "beta", "renewal"]


def make_rule(rng: random.Random, i: int) -> Rule:
    """One rule from the realistic mix (cumulative weights in percent).

    Big rule sets are big because of *specific* rules (a key account, a product line, a
    region and reason pair); broad ones (a tag, a category and tier) are a minority.
    """
    roll = rng.random() * 100
    when: Condition
    if roll < 30:
        field, vocab = rng.choice(
            [("account", ACCOUNTS), ("custom.product", PRODUCTS), ("reason_code", REASONS)]
        )
        when = Equals(field, rng.choice(vocab))
    elif roll < 48:
        field, vocab = rng.choice([("custom.product", PRODUCTS), ("custom.region", REGIONS)])
        when = In(field, rng.sample(vocab, rng.randint(2, 5)))
    elif roll < 66:
        when = AllOf(
            [
                In("reason_code", rng.sample(REASONS, rng.randint(1, 3))),
                Equals("custom.region", rng.choice(REGIONS)),
            ]
        )
    elif roll < 78:
        when = AllOf(
            [
                Equals("category", rng.choice(CATEGORIES)),
                rng.choice(
                    [
                        Equals("tier", rng.choice(TIERS)),
                        Equals("priority", rng.choice(PRIORITIES)),
                        Equals("custom.plan", rng.choice(PLANS)),
                    ]
                ),
            ]
        )
    elif roll < 86:
        when = Prefix("custom.product", f"P-{rng.randint(0, 99):03d}")
    elif roll < 89:
        when = Equals("tags", rng.choice(TAGS))
    elif roll < 94:
        when = AllOf([Exists("custom.contract"), Equals("custom.region", rng.choice(REGIONS))])
    elif roll < 98:
        when = AllOf([Prefix("account", f"ACME-{rng.randint(0, 99):03d}"), Exists("tier")])
    else:
        when = AllOf([Equals("category", rng.choice(CATEGORIES)), Not(Exists("account"))])
    if rng.random() < 0.15:
        then = Target(owner=f"agent-{rng.randint(1, 200)}")
    else:
        then = Target(team=f"team-{rng.randint(1, 40)}")
    return Rule(id=f"r{i}", when=when, then=then)


def make_facts(rng: random.Random) -> Facts:
    """One case's routing facts; some values are unknown to every rule."""
    facts: dict[str, object] = {
        "category": rng.choice([*CATEGORIES, "Misc"]),
        "subcategory": None,
        "reason_code": rng.choice([*REASONS, None, "other_reason"]),
        "case_type": rng.choice(["question", "problem", "incident"]),
        "source": rng.choice(SOURCES),
        "priority": rng.choice(PRIORITIES),
        "severity": rng.choice([None, "s1", "s2", "s3"]),
        "tags": frozenset(rng.sample(TAGS, rng.choice([0, 0, 0, 0, 1, 1, 2]))),
        "account": rng.choice([None, rng.choice(ACCOUNTS), f"GLOBEX-{rng.randint(0, 999)}"]),
        "tier": rng.choice([None, *TIERS]),
        "custom.region": rng.choice(REGIONS),
        "custom.product": rng.choice([*PRODUCTS, "X-1"]),
        "custom.plan": rng.choice(PLANS),
        "custom.contract": rng.choice([None, None, "C-1", "C-2"]),
        "custom.seats": rng.randint(1, 500),
    }
    # Upper-case some values: matching is case-insensitive and must not get slower for it.
    if rng.random() < 0.2:
        facts["category"] = str(facts["category"]).upper()
    return facts


def make_specific_rule(rng: random.Random, i: int) -> Rule:
    """A key-account / product-line table: one specific equality or ``in`` rule per entry."""
    roll = rng.random()
    when: Condition
    if roll < 0.5:
        when = Equals("account", rng.choice(ACCOUNTS))
    elif roll < 0.8:
        when = In("custom.product", rng.sample(PRODUCTS, rng.randint(1, 3)))
    else:
        when = AllOf(
            [
                Equals("reason_code", rng.choice(REASONS)),
                Equals("custom.region", rng.choice(REGIONS)),
            ]
        )
    return Rule(id=f"s{i}", when=when, then=Target(team=f"team-{rng.randint(1, 40)}"))


def make_rules(
    rng: random.Random, count: int, maker: Callable[[random.Random, int], Rule] = make_rule
) -> list[Rule]:
    """``count`` rules with distinct conditions (real rule sets do not repeat themselves)."""
    rules: list[Rule] = []
    seen: set[Condition] = set()
    while len(rules) < count:
        rule = maker(rng, len(rules))
        if rule.when not in seen:
            seen.add(rule.when)
            rules.append(rule)
    return rules


def rate(fn: Callable[[Facts], RouteDecision], cases: list[Facts], min_seconds: float) -> float:
    """Routes per second, repeating over ``cases`` for at least ``min_seconds``."""
    routed = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_seconds:
        for facts in cases:
            fn(facts)
        routed += len(cases)
        elapsed = time.perf_counter() - start
    return routed / elapsed


def main(argv: list[str] | None = None) -> None:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--cases", type=int, default=5000, help="distinct cases per size")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum time per figure")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    cases = [make_facts(rng) for _ in range(args.cases)]
    fallbacks = [FallbackMap.by_category(default=None), FallbackMap.by_reason_code()]
    header = (
        f"{'rules':>6} {'indexed routes/s':>17} {'naive routes/s':>15} {'speed-up':>9} "
        f"{'rule hits':>9} {'median hit #':>12}"
    )
    for title, maker in (
        ("mixed rule set (mostly equality/in, some all/prefix/exists/not)", make_rule),
        ("key-account / product table (specific equality/in rules only)", make_specific_rule),
    ):
        print(title)
        print(header)
        for size in (10, 100, 1000):
            router = Router(make_rules(rng, size, maker), fallbacks)
            mismatches = sum(router.route(f) != router.route_naive(f) for f in cases)
            if mismatches:
                raise SystemExit(f"{mismatches} decisions differ between indexed and naive")
            positions = [router.first_match(f) for f in cases]
            matched = sorted(p + 1 for p in positions if p is not None)
            hits = len(matched) / len(cases)
            median = matched[len(matched) // 2] if matched else 0
            indexed = rate(router.route, cases, args.seconds)
            naive = rate(router.route_naive, cases, args.seconds)
            ratio = indexed / naive
            print(
                f"{size:>6} {indexed:>17,.0f} {naive:>15,.0f} {ratio:>8.1f}x "
                f"{hits:>9.0%} {median:>12}"
            )
        print()


if __name__ == "__main__":
    main()
