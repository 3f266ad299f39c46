"""The automation sweep reads the event stream once: an event is judged when the sweep first
reads it, never again (a rule that did not match then must not fire later because the case
changed), and on PostgreSQL an event that commits after a higher position was read is
still handled, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from caselib import Actor, ServiceDesk
from caselib.ports import Store
from caselib.storage.postgres import PostgresStore
from caselib.testing import FrozenClock
from caselib.testing.conformance import make_case
from pg import DSN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor.system("admin")
ANA = Actor.agent("ana", "support")
RULES = [
    {"id": "crit", "trigger": {"event": "case.created"},
     "when": {"field": "priority", "equals": "urgent"},
     "actions": [{"do": "note", "body": "hot"}]},
    {"id": "ack", "trigger": {"event": "case.created"},
     "actions": [{"do": "note", "body": "ack"}]},
]


def _desk(store: Store) -> ServiceDesk:
    desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(T0))
    desk.set_automation_rules(RULES, actor=ADMIN)
    return desk


def _fired(desk: ServiceDesk, case_id: str) -> list[str]:
    return [e.data["rule"] for e in desk.get_case(case_id, actor=ANA).timeline
            if e.kind == "automation"]


def test_an_event_is_judged_once(make_store: Callable[[], Store]) -> None:
    """A created case that was not urgent stays unmatched for ``crit`` after it becomes
    urgent, however many sweeps follow (PostgreSQL's look-back included)."""
    desk = _desk(make_store())
    cid = desk.create_case(subject="Printer jammed", actor=ANA).id
    assert desk.run_automations().applied == {"ack": 1}
    desk.change_priority(cid, "urgent", actor=ANA)
    for _ in range(3):
        report = desk.run_automations()
        assert report.total_applied == 0
    assert _fired(desk, cid) == ["ack"]
    verdicts = {v.rule_id: v.outcome for v in desk.explain_automation(cid, actor=ANA)}
    assert verdicts["ack"] == "fired"


def test_a_late_commit_is_handled_once(pg_schema: str) -> None:
    """PostgreSQL takes an outbox position before commit: a case created in a transaction
    that commits after a later case was swept is still acknowledged, once, and the sweeps
    after it read nothing more."""
    early, late = PostgresStore(DSN, schema=pg_schema), PostgresStore(DSN, schema=pg_schema)
    try:
        desk = _desk(early)
        desk.run_automations()  # the cursor exists
        held = early.unit_of_work("acme")
        uow = held.__enter__()
        slow = make_case("acme", 1, case_id="slow-case", number="CASE-9001")
        uow.cases.add(slow)  # its case.created takes an outbox position now
        other = _desk(late)
        quick = other.create_case(subject="Quick one", actor=ANA).id
        assert other.run_automations().applied == {"ack": 1}  # past the held positions
        uow.commit()
        held.__exit__(None, None, None)
        assert other.run_automations().applied == {"ack": 1}
        # the sweeps' own entries are new events; after them the stream is read out (a
        # store that looked back at events it had handed out would read some every time)
        reads = [other.run_automations() for _ in range(3)]
        assert [r.total_applied for r in reads] == [0, 0, 0]
        assert reads[-1].events_read == 0
        assert _fired(other, "slow-case") == ["ack"] and _fired(other, quick) == ["ack"]
    finally:
        early.close()
        late.close()


def test_rules_on_links(make_store: Callable[[], Store]) -> None:
    """``case.linked`` / ``case.unlinked`` are rule triggers; each end of a link gets its
    event, so a rule fires on both cases, once per occurrence."""
    desk = ServiceDesk(make_store(), tenant="acme", clock=FrozenClock(T0))
    desk.set_automation_rules([
        {"id": "tell", "trigger": {"event": "case.linked"},
         "actions": [{"do": "note", "body": "linked"}]},
        {"id": "untell", "trigger": {"event": "case.unlinked"},
         "actions": [{"do": "note", "body": "unlinked"}]},
    ], actor=ADMIN)
    a = desk.create_case(subject="Parent", actor=ANA).id
    b = desk.create_case(subject="Child", actor=ANA).id
    desk.link_cases(a, "parent_of", b, actor=ANA)
    assert desk.run_automations().applied == {"tell": 2}
    desk.unlink_cases(a, "parent_of", b, actor=ANA)
    assert desk.run_automations().applied == {"untell": 2}
    assert desk.run_automations().total_applied == 0
    assert _fired(desk, a) == _fired(desk, b) == ["tell", "untell"]


def test_history_before_the_rules_is_not_swept(make_store: Callable[[], Store]) -> None:
    """Rules turned on for a tenant with history start with the next event on every store:
    PostgreSQL's look-back below the cursor must not hand out the events the cursor was
    started after (the acknowledgment would go to every recent case)."""
    desk = ServiceDesk(make_store(), tenant="acme", clock=FrozenClock(T0))
    old = [desk.create_case(subject=f"Old {n}", actor=ANA).id for n in range(3)]
    desk.set_automation_rules(RULES, actor=ADMIN)
    new = desk.create_case(subject="New one", actor=ANA).id
    assert desk.run_automations().applied == {"ack": 1}
    assert _fired(desk, new) == ["ack"]
    assert all(_fired(desk, cid) == [] for cid in old)


def test_schema_10_upgrade_hands_out_nothing_again(pg_schema: str) -> None:
    """A PostgreSQL schema written before migration 11 has a cursor but no record of what
    it handed out: the upgrade counts the events at or below the cursor as handed out, so a
    rule that did not match one then does not fire on it after the upgrade."""
    import psycopg

    store = PostgresStore(DSN, schema=pg_schema)
    try:
        desk = _desk(store)
        cid = desk.create_case(subject="Printer jammed", actor=ANA).id
        assert desk.run_automations().applied == {"ack": 1}
        desk.change_priority(cid, "urgent", actor=ANA)
        desk.run_automations()
    finally:
        store.close()
    with psycopg.connect(DSN, autocommit=True) as conn:  # back to schema 10
        conn.execute(f'DROP TABLE "{pg_schema}".automation_seen')
        conn.execute(f'DELETE FROM "{pg_schema}".schema_version WHERE version >= 11')
    store = PostgresStore(DSN, schema=pg_schema)
    try:
        desk = _desk(store)
        assert desk.run_automations().total_applied == 0
        assert _fired(desk, cid) == ["ack"]
    finally:
        store.close()
