"""Bad input is refused by the domain, once, the same on every store.

Wrong types raise :class:`~caselib.errors.WrongType`; text no store can hold (a lone
surrogate, NUL; control characters in tags) raises :class:`~caselib.errors.InvalidInput`
before a store sees it; where the stores used to read a bad value differently (a string for a
yes/no filter, a negative relay limit, a crafted paging cursor) the desk refuses it. Each
refusal leaves the store as it was. Run on the memory, SQLite and PostgreSQL stores
(the ``store`` fixture of :mod:`test_fuzz_inputs`); the hypothesis tests compare the memory
and SQLite stores example by example.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import caselib
from caselib import (
    Actor,
    Article,
    CaselibError,
    CaseQuery,
    InvalidInput,
    MemoryStore,
    ServiceDesk,
    Store,
    WrongType,
    errors,
)
from caselib.checks import storable, unstorable
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock, RecordingSink
from test_fuzz_inputs import (
    METHODS,
    T0,
    World,
    admits,
    hints,
    snapshot,
    store,  # noqa: F401  (fixture: memory, SQLite and PostgreSQL stores)
    valid_kwargs,
)

AGENT = Actor.agent("ana", "admin")
READER = AGENT
SURROGATE = "ab\ud800cd"


def desk_on(store: Store, tenant: str = "acme") -> ServiceDesk:  # noqa: F811
    return ServiceDesk(store, tenant=tenant, clock=FrozenClock(T0))


def refused(desk: ServiceDesk, call: Callable[[], object], error: type[InvalidInput] = InvalidInput
            ) -> InvalidInput:
    """Run ``call``; it must raise ``error`` and leave the store as it was."""
    before = snapshot(desk.store, desk.tenant)
    with pytest.raises(error) as info:
        call()
    assert snapshot(desk.store, desk.tenant) == before
    return info.value


class TestWrongType:
    """The error itself: a TypeError and an InvalidInput, saying what to pass."""

    def test_a_typeerror_and_bad_input(self) -> None:
        """Caught as TypeError (Python habit), ValueError / InvalidInput (the web layer's 422)."""
        err = WrongType("actor", "an Actor", None, "for example Actor.agent('ana')")
        assert isinstance(err, TypeError) and isinstance(err, InvalidInput)
        assert isinstance(err, ValueError) and isinstance(err, caselib.CaselibError)
        assert (err.code, err.http_status) == ("wrong_type", 422)
        assert (err.field, err.expected, err.received) == ("actor", "an Actor", "NoneType")
        assert str(err) == ("actor must be an Actor, got NoneType "
                            "(for example Actor.agent('ana'))")

    def test_exported(self) -> None:
        """Hosts import it from the package root."""
        assert caselib.WrongType is errors.WrongType and "WrongType" in caselib.__all__

    @pytest.mark.parametrize(("call", "field"), [
        (lambda d, c: d.create_case(subject="x", actor=AGENT, tags=5), "tags"),
        (lambda d, c: d.create_case(subject="x", actor=AGENT, tags="vpn"), "tags"),
        (lambda d, c: d.create_case(subject="x", actor=AGENT, tags={"vpn": 1}), "tags"),
        (lambda d, c: d.add_comment(c.id, "On it", actor=None), "actor"),
        (lambda d, c: d.add_comment(c.id, "On it", actor="ana"), "actor"),
        (lambda d, c: d.get_case({"id": c.id}, actor=READER), "case_id"),
        (lambda d, c: d.get_case(2**70, actor=READER), "case_id"),
        (lambda d, c: d.add_comment(c.id, 42, actor=AGENT), "comment"),
        (lambda d, c: d.assign(c.id, actor=AGENT, assignee="bob", keep_team="no"), "keep_team"),
        (lambda d, c: d.reroute(c.id, actor=AGENT, force=1), "force"),
        (lambda d, c: d.update_fields(c.id, [("subject", "x")], actor=AGENT), "changes"),
        (lambda d, c: d.add_comment(c.id, "x", actor=AGENT, expected_version="1"),
         "expected_version"),
        (lambda d, c: d.find_cases(query={"teams": ["support"]}, actor=READER), "query"),
        (lambda d, c: d.dispatch_events(None), "sink"),
        (lambda d, c: d.sweep_breaches(actor=AGENT, notifier=print), "notifier"),
        (lambda d, c: d.approaching(4, actor=READER), "within"),
        (lambda d, c: d.route_preview(["billing"]), "fields"),
        (lambda d, c: d.put_article({"id": "kb-1"}, actor=AGENT), "article"),
        (lambda d, c: d.allowed_transitions(c.id), "case"),
        (lambda d, c: d.retrying(None), "command"),
        (lambda d, c: d.rate(c.id, 4.5, actor=Actor.customer("c-1")), "csat"),
        (lambda d, c: d.for_tenant("other", settings={}), "settings"),
    ])
    def test_named_field(self, store: Store, call: Callable[[ServiceDesk, Any], object],  # noqa: F811
                         field: str) -> None:
        """Each names the parameter and changes nothing, on every store."""
        desk = desk_on(store)
        case = desk.create_case(subject="VPN drops", actor=AGENT, links={"contact": "c-1"})
        assert refused(desk, lambda: call(desk, case), WrongType).field == field


BAD_TEXT: dict[str, Callable[[ServiceDesk, Any, str], object]] = {
    "subject": lambda d, c, t: d.create_case(subject=t, actor=AGENT),
    "description": lambda d, c, t: d.create_case(subject="ok", description=t, actor=AGENT),
    "comment": lambda d, c, t: d.add_comment(c.id, t, actor=AGENT),
    "tag": lambda d, c, t: d.create_case(subject="ok", actor=AGENT, tags=["vpn", t]),
    "tag, updated": lambda d, c, t: d.update_fields(c.id, {"tags": [t]}, actor=AGENT),
    "note": lambda d, c, t: d.transition(c.id, "open", actor=AGENT, note=t),
    "field value": lambda d, c, t: d.update_fields(c.id, {"custom": {"tier": t}}, actor=AGENT),
    "subject, updated": lambda d, c, t: d.update_fields(c.id, {"subject": t}, actor=AGENT),
    "link": lambda d, c, t: d.create_case(subject="ok", actor=AGENT, links={"account": t}),
    "assignee": lambda d, c, t: d.assign(c.id, actor=AGENT, assignee=t),
    "reason": lambda d, c, t: d.change_priority(c.id, "high", actor=AGENT, reason=t),
    "actor id": lambda d, c, t: d.add_comment(c.id, "hi", actor=Actor.agent(t)),
    "actor name": lambda d, c, t: d.add_comment(c.id, "hi", actor=Actor.agent("ana", name=t)),
    "case id": lambda d, c, t: d.get_case(t, actor=READER),
    "case number": lambda d, c, t: d.get_case_by_number(t, actor=READER),
    "filter, tag": lambda d, c, t: d.find_cases(tags=[t], actor=READER),
    "filter, team": lambda d, c, t: d.find_cases(teams=t, actor=READER),
    "filter, status": lambda d, c, t: d.count_by_status(CaseQuery(statuses=[t]), actor=READER),
    "article title": lambda d, c, t: d.put_article(
        Article(id="kb-1", title=t, updated_at=T0), actor=AGENT),
    "article body": lambda d, c, t: d.put_article(
        Article(id="kb-1", title="VPN", body=t, updated_at=T0), actor=AGENT),
    "article tag": lambda d, c, t: d.put_article(
        Article(id="kb-1", title="VPN", tags=[t], updated_at=T0), actor=AGENT),
    "article id": lambda d, c, t: d.remove_article(t, actor=AGENT),
    "tenant": lambda d, c, t: d.for_tenant(t),
}


class TestUnstorableText:
    """Text no store can hold is refused by the domain: the same InvalidInput everywhere."""

    @pytest.mark.parametrize("where", sorted(BAD_TEXT))
    def test_refused_everywhere(self, store: Store, where: str) -> None:  # noqa: F811
        """Subject, comment, tag, note, field value, filter, article text … on every store:
        a lone surrogate (high or low) and NUL."""
        desk = desk_on(store)
        case = desk.create_case(subject="VPN drops", actor=AGENT)
        for text in (SURROGATE, "\udfffend", "a\x00b"):
            err = refused(desk, lambda t=text: BAD_TEXT[where](desk, case, t))
            assert err.field is not None
            assert "NUL" in str(err) or "surrogate" in str(err) or "tag" in str(err)

    @pytest.mark.parametrize("tag", ["\x1b[31mred", "bell\x07", "del\x7f", "csi\x9b2J",
                                     "nul\x00", "ab\ud800"])
    def test_control_characters_in_tags(self, store: Store, tag: str) -> None:  # noqa: F811
        """A tag is a plain word: NUL, terminal escapes and other controls are refused."""
        desk = desk_on(store)
        err = refused(desk, lambda: desk.create_case(subject="ok", actor=AGENT, tags=[tag]))
        assert err.field == "tags"

    def test_the_rule(self) -> None:
        """NUL and lone surrogates are unstorable; astral characters (a valid pair) are fine."""
        assert unstorable("🧾 Ünïcödé") is None
        assert unstorable("a\x00") == "a NUL character"
        assert unstorable(SURROGATE) is not None
        assert storable("fine", "x") == "fine"


class TestStoresAgree:
    """Where the stores used to read a bad value differently, the domain now decides."""

    @pytest.fixture
    def desk(self, store: Store) -> ServiceDesk:  # noqa: F811
        desk = desk_on(store)
        for n in range(4):
            case = desk.create_case(subject=f"Case {n}", actor=AGENT)
            if n % 2:
                desk.assign(case.id, actor=AGENT, assignee="bob")
        return desk

    @pytest.mark.parametrize("value", ["no", "false", "", 0, 1, "0", None.__class__])
    @pytest.mark.parametrize("name", ["unassigned", "breached"])
    def test_yes_no_filters_take_bools_only(self, desk: ServiceDesk, name: str,
                                            value: object) -> None:
        """``unassigned="no"`` listed 0 cases on memory and 4 on SQLite; ``breached="false"``
        was read as true. A yes/no filter takes True, False or None; nothing is guessed."""
        err = refused(desk, lambda: desk.find_cases(**{name: value}, actor=READER), WrongType)
        assert err.field == name and err.expected == "True or False"

    def test_yes_no_filters_answer_alike(self, desk: ServiceDesk) -> None:
        """The bools themselves give the same lists on every store."""
        assert len(desk.find_cases(unassigned=True, actor=READER).items) == 2
        assert len(desk.find_cases(unassigned=False, actor=READER).items) == 2
        assert len(desk.find_cases(breached=False, actor=READER).items) == 4
        assert desk.find_cases(breached=True, actor=READER).items == ()

    @pytest.mark.parametrize(("limit", "error"), [
        (-1, InvalidInput), (0, InvalidInput), (1001, InvalidInput), (2**70, InvalidInput),
        (True, WrongType), (1.5, WrongType), ("5", WrongType), (None, WrongType)])
    def test_relay_limit(self, desk: ServiceDesk, limit: object,
                         error: type[InvalidInput]) -> None:
        """``dispatch_events(limit=-1)`` relayed 0 events on memory and all on SQLite: a
        limit is from 1 to 1000, and nothing is claimed or delivered otherwise."""
        sink = RecordingSink()
        err = refused(desk, lambda: desk.dispatch_events(sink, limit=limit), error)
        assert err.field == "limit" and sink.messages == []

    def test_relay_limit_is_exact(self, desk: ServiceDesk) -> None:
        """A valid limit relays exactly that many on every store."""
        sink = RecordingSink()
        assert desk.dispatch_events(sink, limit=1) == 1 and len(sink.messages) == 1
        assert desk.dispatch_events(sink, limit=1000) > 0

    def test_query_and_filters_not_both(self, desk: ServiceDesk) -> None:
        """Filters beside a query were silently ignored; now the call says so."""
        err = refused(desk, lambda: desk.find_cases(CaseQuery(), unassigned=True, actor=READER))
        assert err.field == "query"

    @pytest.mark.parametrize("order", ["created", "-created", "updated", "-updated", "due",
                                       "-priority"])
    def test_crafted_cursors(self, desk: ServiceDesk, order: str) -> None:
        """A crafted ``after`` escaped as IndexError, ValueError or OverflowError; any
        malformed cursor is now InvalidInput(field="after"), and real ones still page."""
        first = desk.find_cases(order=order, limit=2, actor=READER)
        assert first.next_cursor is not None
        assert desk.find_cases(order=order, limit=2, after=first.next_cursor, actor=READER).items
        for cursor in crafted_cursors(order):
            err = refused(desk, lambda c=cursor: desk.find_cases(order=order, after=c,
                                                                 actor=READER))
            assert err.field == "after", cursor


def b64(data: object) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def crafted_cursors(order: str) -> Iterator[str]:
    """Cursors no page ever handed out, for ``order``."""
    iso = "2026-01-05T09:00:00.000000+00:00"
    yield from ["", "!", "a", "Zm9v", "W" * 5000, b64(b"\xff\xfe"), b64(b"[" * 1500)]
    for values in ([], [1], [1, 2], [None, None], ["x", "y"], [iso], [iso, 1],
                   [iso, "id", "extra"], ["2026-01-05T09:00:00+00:00", "id"],
                   ["2026-01-05T09:00:00.000000", "id"], [iso, "\ud800"], [iso, "a\x00"],
                   [2**70, iso, "id"], [-1, iso, "id"], [True, iso, "id"], ["1", iso, "id"],
                   [4, iso, "id"], [1.5, iso, "id"], [1, None, "id"], [{"a": 1}, "id"]):
        yield b64([order, *values])
    yield b64([])
    yield b64({"order": order})
    yield b64([[order]])
    yield b64([1, "id"])


TENANTS = itertools.count()
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4), max_leaves=8)
JUNK = st.one_of(
    JSONISH, st.binary(max_size=8), st.text(max_size=8),
    st.dictionaries(st.text(max_size=4), JSONISH, max_size=3), st.sets(st.integers(), max_size=3),
    st.just(2**70), st.just(float("nan")), st.builds(object), st.just(SURROGATE),
)


class TestHypothesis:
    """Random wrong values, and random text on two stores."""

    @given(st.data())
    def test_any_value_anywhere(self, data: st.DataObject) -> None:
        """Any value for any parameter of any method: a result or a CaselibError, and a
        refusal changes nothing (memory store)."""
        world = World(MemoryStore())
        method, sig = data.draw(st.sampled_from(METHODS), label="method")
        kwargs = valid_kwargs(world, method, sig)
        names = [p.name for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
        if not names:
            return
        name = data.draw(st.sampled_from(names), label="parameter")
        value = data.draw(JUNK, label="value")
        kwargs[name] = value
        desk = world.desk(method)
        before = snapshot(world.store, desk.tenant)
        try:
            getattr(desk, method)(**kwargs)
        except CaselibError:
            assert snapshot(world.store, desk.tenant) == before
        else:
            assert admits(hints(method).get(name, Any), value), "a wrong type was accepted"

    @given(text=st.text(max_size=30), where=st.sampled_from(["subject", "comment", "tag",
                                                             "note", "filter, tag"]))
    def test_text_is_decided_alike(self, two_stores: tuple[Store, Store], text: str,
                                   where: str) -> None:
        """Any text (surrogates, NUL, controls included): memory and SQLite both accept it
        and keep the same, or both refuse it with the same error for the same field."""
        tenant = f"t{next(TENANTS)}"
        outcomes = [_outcome(desk_on(s, tenant), where, text) for s in two_stores]
        assert outcomes[0] == outcomes[1]

    @given(after=st.one_of(st.text(max_size=80), st.builds(b64, JSONISH)))
    def test_any_cursor(self, two_stores: tuple[Store, Store], after: str) -> None:
        """Any string as ``after``: a page or InvalidInput(field="after"), alike on both."""
        outcomes = []
        for s in two_stores:
            desk = desk_on(s, "cursors")
            try:
                page = desk.find_cases(after=after, limit=3, actor=READER)
                outcomes.append([c.id for c in page.items])
            except InvalidInput as err:
                outcomes.append(["refused", err.field])
        assert outcomes[0] == outcomes[1]
        assert outcomes[0][0] != "refused" or outcomes[0][1] == "after"


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    """A memory and an SQLite store, shared by a hypothesis test's examples (each example
    uses a tenant of its own); the cursor tests' tenant holds five cases."""
    path: Path = tmp_path_factory.mktemp("agree") / "agree.sqlite3"
    stores: tuple[Store, Store] = (MemoryStore(), SqliteStore(path))
    for s in stores:
        desk = desk_on(s, "cursors")
        for n in range(5):
            desk.create_case(subject=f"Case {n}", actor=AGENT)
    yield stores
    stores[1].close()


def _outcome(desk: ServiceDesk, where: str, text: str) -> object:
    """What the store kept of ``text``, or the refusal's class and field."""
    try:
        if where == "subject":
            return desk.create_case(subject=text, actor=AGENT).subject
        if where == "tag":
            return sorted(desk.create_case(subject="x", actor=AGENT, tags=[text]).tags)
        if where == "filter, tag":
            return desk.find_cases(tags=[text], actor=READER).items
        case = desk.create_case(subject="x", actor=AGENT)
        if where == "comment":
            case = desk.add_comment(case.id, text, actor=AGENT)
        else:
            case = desk.transition(case.id, "open", actor=AGENT, note=text)
        stored = desk.get_case(case.id, actor=READER)
        return [attrs.astuple(e)[4:7] for e in stored.timeline[1:]]
    except CaselibError as err:
        return type(err).__name__, getattr(err, "field", None)


class TestActorIds:
    """An actor id must name someone: empty and blank ids are refused alike, because the
    serialize reader (and so every store's document) refuses both."""

    @pytest.mark.parametrize("blank", ["", " ", "\t\n"])
    def test_blank_actor_id_is_refused(self, blank: str) -> None:
        from caselib import Actor

        with pytest.raises(InvalidInput, match=r"actor\.id"):
            Actor.agent(blank)
