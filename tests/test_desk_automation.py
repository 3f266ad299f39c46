"""Automations on the desk: rules fire once per occurrence, never re-trigger themselves, time
rules run from the due range, and explain says why."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import Actor, CaselibError, InvalidConfiguration, ServiceDesk, UnknownValue
from caselib.automation import TimeTrigger, time_occurrence
from caselib.desk.delivery import DeliveryChannels
from caselib.ports import HostTask, Notification, OutgoingMail, Store, automation_ledger
from caselib.routing import Agent, StaticDirectory, Team
from caselib.testing import FrozenClock

ADMIN = Actor.system("admin")
ANA = Actor.agent("ana", "support")


class Recorder:
    """Every channel at once, recording what it received (keys deduped as a receiver would)."""

    def __init__(self) -> None:
        self.mails: dict[str, OutgoingMail] = {}
        self.hooks: dict[str, tuple[str, Any]] = {}
        self.notices: dict[str, Notification] = {}
        self.tasks: dict[str, HostTask] = {}

    def send(self, mail: OutgoingMail) -> None:
        self.mails[mail.key] = mail

    def post(self, url: str, secret: str, body: Any, key: str) -> bool:
        self.hooks[key] = (url, body)
        return True

    def notify(self, notification: Notification) -> None:
        self.notices[notification.key] = notification

    def create_task(self, task: HostTask) -> None:
        self.tasks[task.key] = task

    def channels(self) -> DeliveryChannels:
        return DeliveryChannels(webhooks=self, mailer=self, notifier=self, tasks=self)


def make_desk(store: Store, clock: FrozenClock) -> ServiceDesk:
    directory = StaticDirectory(
        [Team("support", "Support", "none", members=("ana",), queue_contact="lead",
              manager_id="boss")],
        [Agent("ana", "Ana", manager_id="mgr-ana")])
    desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory)
    for name in ("ack_email", "critical_webhook", "pending_follow_up", "resolved_follow_up"):
        desk.enable_automation_preset(name, actor=ADMIN)
    return desk


def new_case(desk: ServiceDesk, priority: str = "normal") -> str:
    return desk.create_case(subject="Printer jammed", actor=ANA, priority=priority,
                            links={"contact": "cust@example.com"}).id


class TestManagement:
    """Rules are validated as a whole; presets turn on by name."""

    def test_unknown_names_are_refused_and_nothing_changes(self, desk: ServiceDesk) -> None:
        desk.enable_automation_preset("ack_email", actor=ADMIN)
        with pytest.raises(UnknownValue, match=r"case\.created"):
            desk.set_automation_rules([{"id": "x", "trigger": {"event": "case.nope"},
                                        "actions": [{"do": "note", "body": "n"}]}],
                                      actor=ADMIN)
        with pytest.raises(UnknownValue, match="ack_email"):
            desk.enable_automation_preset("nope", actor=ADMIN)
        with pytest.raises(InvalidConfiguration, match="id"):
            desk.set_automation_rules([desk.automation_rules()[0]] * 2, actor=ADMIN)
        assert [r.id for r in desk.automation_rules()] == ["ack_email"]


class TestRun:
    """The four presets, exactly once, and no loops."""

    def test_presets_fire_once(self, clock: FrozenClock) -> None:
        from caselib import MemoryStore

        desk = make_desk(MemoryStore(), clock)
        crit = new_case(desk, "urgent")
        calm = new_case(desk)
        report = desk.run_automations()
        assert report.applied == {"ack_email": 2, "critical_webhook": 1}
        assert desk.run_automations().total_applied == 0
        got = Recorder()
        sent = desk.deliver_pending(got.channels())
        assert (sent.emails, sent.webhooks) == (2, 1)
        [(_url, body)] = got.hooks.values()
        assert body["case"]["id"] == crit
        mail = next(m for m in got.mails.values() if m.case_id == calm)
        assert mail.headers["Auto-Submitted"] == "auto-generated"
        assert desk.get_case(calm, actor=ANA).number in mail.subject
        timeline = desk.get_case(crit, actor=ANA).timeline
        assert [e.data["rule"] for e in timeline if e.kind == "automation"] == [
            "ack_email", "critical_webhook"]

    def test_time_rules(self, clock: FrozenClock) -> None:
        from caselib import MemoryStore

        desk = make_desk(MemoryStore(), clock)
        cid = new_case(desk)
        desk.transition(cid, "open", actor=ANA)
        desk.transition(cid, "in_progress", actor=ANA)
        desk.transition(cid, "pending_customer", actor=ANA)  # Monday 09:00
        desk.run_automations()
        clock.advance(timedelta(days=4))
        assert desk.run_automations().total_applied == 0
        clock.advance(timedelta(days=3))  # Monday + 7 days = 5 business days
        assert desk.run_automations().applied == {"pending_follow_up": 1}
        assert desk.run_automations().total_applied == 0
        verdicts = {v.rule_id: v.outcome for v in desk.explain_automation(cid, actor=ANA)}
        assert verdicts["pending_follow_up"] == "fired"
        assert verdicts["resolved_follow_up"] == "waiting_for_event"
        desk.resolve(cid, summary="fixed", actor=ANA)
        assert desk.run_automations().applied == {"resolved_follow_up": 1}
        got = Recorder()
        desk.deliver_pending(got.channels())
        [task] = got.tasks.values()
        assert task.due_at == clock.now() + timedelta(days=7)

    def test_own_action_never_retriggers(self, desk: ServiceDesk) -> None:
        desk.set_automation_rules([{
            "id": "bounce", "trigger": {"event": "case.status_changed"},
            "actions": [{"do": "transition", "to": "in_progress"},
                        {"do": "note", "body": "bounced"}]}], actor=ADMIN)
        cid = new_case(desk)
        desk.transition(cid, "open", actor=ANA)
        for _ in range(3):
            desk.run_automations()
        case = desk.get_case(cid, actor=ANA)
        assert case.status == "in_progress"
        assert sum(1 for e in case.timeline if e.kind == "automation") == 1


# -- the property: random histories on every store ---------------------------------------------

_STEP = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["normal", "urgent"])),
    st.tuples(st.just("move"), st.integers(0, 5),
              st.sampled_from(["open", "pending_customer", "in_progress", "resolved"])),
    st.tuples(st.just("advance"), st.integers(1, 72)),
    st.tuples(st.just("run"), st.just(0)),
)


def _expect(desk: ServiceDesk, ids: list[str], expected: set[tuple[str, str, str]]) -> None:
    """Before a run: the time rule's occurrences that are due now must be applied by it."""
    rule = next(r for r in desk.automation_rules() if r.id == "pending_follow_up")
    assert isinstance(rule.trigger, TimeTrigger)
    for cid in ids:
        occ = time_occurrence(rule.trigger, desk.get_case(cid, actor=ANA))
        if occ is not None and occ.due_at <= desk.clock.now():
            expected.add((cid, rule.id, occ.key))


@pytest.mark.parametrize("processes", [1, 2])
def test_exactly_once_per_occurrence(make_store: Callable[[], Store],
                                     processes: int) -> None:
    """Random histories and clock advances: every rule applies exactly once per occurrence
    (the ledger holds exactly the expected applications, the timeline agrees, nothing
    doubles); a second run at the same instant does nothing; a second desk (another store
    handle: another process's view) running too applies nothing twice."""
    store = make_store()
    other = _second(store)
    tenants = iter(range(10_000))

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_STEP, min_size=3, max_size=25))
    def run(steps: list[tuple[Any, ...]]) -> None:
        clock = FrozenClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
        desk = make_desk(store, clock).for_tenant(f"t{next(tenants)}")
        desk2 = ServiceDesk(other, tenant=desk.tenant, clock=clock, settings=desk.settings)
        ids: list[str] = []
        expected: set[tuple[str, str, str]] = set()
        for step in [*steps, ("run", 0)]:
            if step[0] == "create":
                ids.append(new_case(desk, step[1]))
                expected.add((ids[-1], "ack_email", f"{ids[-1]}:1:0"))
                if step[1] == "urgent":
                    expected.add((ids[-1], "critical_webhook", f"{ids[-1]}:1:0"))
            elif step[0] == "move" and ids:
                cid = ids[step[1] % len(ids)]
                try:
                    if step[2] == "resolved":
                        case = desk.resolve(cid, summary="done", actor=ANA)
                        key = next(m for m in _messages(store, desk.tenant, cid)
                                   if m.type == "case.resolved" and
                                   m.key.startswith(f"{cid}:{case.version}:")).key
                        expected.add((cid, "resolved_follow_up", key))
                    else:
                        desk.transition(cid, step[2], actor=ANA)
                except CaselibError:  # a move the workflow refuses
                    pass
            elif step[0] == "advance":
                clock.advance(timedelta(hours=step[1]))
            else:
                _expect(desk, ids, expected)
                desk.run_automations()
                if processes == 2:
                    desk2.run_automations()
        assert desk.run_automations().total_applied == 0
        assert desk2.run_automations().total_applied == 0
        got: set[tuple[str, str, str]] = set()
        for cid in ids:
            case = desk.get_case(cid, actor=ANA)
            entries = [(cid, e.data["rule"], e.data["occurrence"]) for e in case.timeline
                       if e.kind == "automation"]
            assert len(entries) == len(set(entries))
            with store.unit_of_work(desk.tenant) as uow:
                ledger = {(cid, a.rule_id, a.occurrence)
                          for a in automation_ledger(uow).applied(cid)}
            assert ledger == set(entries)
            got |= ledger
        assert got == expected

    run()


def _messages(store: Store, tenant: str, case_id: str) -> list[Any]:
    with store.unit_of_work(tenant) as uow:
        events = automation_ledger(uow).claim_events(10_000) or []
    return [e.message for e in events if e.message.case_id == case_id]


def test_two_processes_at_once(make_store: Callable[[], Store], clock: FrozenClock) -> None:
    """Two desks over two store handles run at the same moment on threads: each rule
    applies once per case."""
    store = make_store()
    desk = make_desk(store, clock)
    ids = [new_case(desk, "urgent" if n % 3 == 0 else "normal") for n in range(40)]
    desks = [desk, ServiceDesk(_second(store), tenant="acme", clock=clock,
                               settings=desk.settings)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(d: ServiceDesk) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                d.run_automations(batch=7)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    desk.run_automations()
    with store.unit_of_work("acme") as uow:
        ledger = automation_ledger(uow)
        rows = [a for cid in ids for a in ledger.applied(cid)]
    assert len(rows) == 40 + 14
    for cid in ids:
        case = desk.get_case(cid, actor=ANA)
        assert sum(1 for e in case.timeline if e.kind == "automation") == len(
            [a for a in rows if a.case_id == cid])


def _second(store: Store) -> Store:
    path = getattr(store, "path", None)
    schema = getattr(store, "schema", None)
    if path is not None:
        from caselib.storage.sqlite import SqliteStore

        return SqliteStore(path)
    if schema is not None:
        from caselib.storage.postgres import PostgresStore
        from pg import DSN

        return PostgresStore(DSN, schema=schema)
    return store


class TestNotices:
    """Notices reach people through the directory and come as digests in a burst."""

    def test_a_burst_of_breaches_is_one_digest_per_person(self, clock: FrozenClock) -> None:
        from caselib import MemoryStore

        desk = make_desk(MemoryStore(), clock)
        desk.enable_automation_preset("breach_notice", actor=ADMIN)
        ids = [desk.create_case(subject=f"Down {n}", actor=ANA, priority="urgent",
                                assignee="ana", team="support").id for n in range(30)]
        loner = desk.create_case(subject="Nobody", actor=ANA, priority="urgent",
                                 team="support").id
        clock.advance(timedelta(hours=5))
        desk.sweep_breaches(actor=ADMIN)
        report = desk.run_automations()
        assert report.applied["breach_notice"] == 62  # first response and resolution
        got = Recorder()
        sent = desk.deliver_pending(got.channels(), limit=1000)
        by_person: dict[str, list[Notification]] = {}
        for n in got.notices.values():
            by_person.setdefault(n.recipient, []).append(n)
        # ana owns 30 cases (60 breaches): one digest; so does her manager; the unowned
        # case goes to the team's lead (standing in for owner and manager): two notices
        assert sorted(by_person) == ["ana", "boss", "mgr-ana"]
        [digest] = by_person["ana"]
        assert digest.kind == "automation.digest"
        assert digest.body.count("\n") == 59
        assert [n.kind for n in by_person["mgr-ana"]] == ["automation.digest"]
        assert sorted(n.case_id for n in by_person["boss"]) == [loner, loner]
        assert sent.digests == 2
        assert desk.deliver_pending(got.channels(), limit=1000).messages == 0
        assert len(ids) == 30

    def test_each_breach_notice_names_its_target(self, clock: FrozenClock) -> None:
        """Two breaches of one case read apart (``{{ event.target }}``): the digest's
        lines were word for word the same; a trigger without a target leaves it empty, and
        a customer template may not name it."""
        from caselib import MemoryStore
        from caselib.automation import Template

        desk = make_desk(MemoryStore(), clock)
        desk.enable_automation_preset("breach_notice", actor=ADMIN)
        desk.set_automation_rules([*desk.settings.automations, {
            "id": "fyi", "trigger": {"event": "case.created"},
            "actions": [{"do": "notify", "who": ["owner"], "template": {
                "subject": "new [{{ event.target }}]", "body": "x", "audience": "internal"}}]},
        ], actor=ADMIN)
        case = desk.create_case(subject="Down", actor=ANA, priority="urgent",
                                assignee="ana", team="support")
        clock.advance(timedelta(hours=5))
        desk.sweep_breaches(actor=ADMIN)
        desk.run_automations()
        got = Recorder()
        desk.deliver_pending(DeliveryChannels(notifier=got, digest_after=10), limit=100)
        subjects = sorted(n.subject for n in got.notices.values() if n.recipient == "ana")
        assert subjects == [
            f"{case.number} breached its first_response SLA: Down",
            f"{case.number} breached its resolution SLA: Down",
            f"[{case.number}] new []"]
        with pytest.raises(InvalidConfiguration, match=r"event\.target"):
            Template("{{ event.target }}", "x", "customer")

    def test_amber_first_response_mails_the_managers(self, clock: FrozenClock) -> None:
        from caselib import MemoryStore

        desk = make_desk(MemoryStore(), clock)
        desk.enable_automation_preset("first_response_warning", actor=ADMIN)
        case = desk.create_case(subject="Slow VPN", actor=ANA, priority="high",
                                assignee="ana", team="support")
        [first] = [t for t in case.sla_targets if t.name == "first_response"]
        assert first.warn_at is not None
        desk.run_automations()  # schedules the amber time
        clock.set(first.warn_at - timedelta(minutes=1))
        assert "first_response_warning" not in desk.run_automations().applied
        clock.set(first.warn_at)
        assert desk.run_automations().applied == {"first_response_warning": 1}
        assert desk.run_automations().total_applied == 0
        got = Recorder()
        desk.deliver_pending(DeliveryChannels(
            mailer=got, addresses=lambda who: f"{who}@example.com"))
        [mail] = [m for m in got.mails.values() if m.to == "mgr-ana@example.com"]
        assert case.number in mail.subject


class TestExplain:
    """explain_automation says which rules fired and why the others did not."""

    def test_reasons(self, desk: ServiceDesk) -> None:
        desk.set_automation_rules([
            {"id": "crit", "trigger": {"event": "case.created"},
             "when": {"field": "priority", "equals": "urgent"},
             "actions": [{"do": "note", "body": "hot"}]},
            {"id": "ack", "trigger": {"event": "case.created"},
             "actions": [{"do": "note", "body": "ack"}]},
            {"id": "stale", "trigger": {"time": {"since": "category", "category": "waiting",
                                                 "days": 2}},
             "actions": [{"do": "note", "body": "nudge"}]},
        ], actor=ADMIN)
        cid = new_case(desk)
        desk.run_automations()
        verdicts = {v.rule_id: v for v in desk.explain_automation(cid, actor=ANA)}
        assert verdicts["ack"].outcome == "fired"
        assert verdicts["crit"].outcome == "not_matched"
        assert "priority" in verdicts["crit"].reason
        assert verdicts["stale"].outcome == "no_occurrence"


def test_turning_automations_on_does_not_replay_history(desk: ServiceDesk) -> None:
    """Cases from before the first rules get no acknowledgment storm; later ones do."""
    old = [new_case(desk) for _ in range(5)]
    desk.enable_automation_preset("ack_email", actor=ADMIN)
    fresh = new_case(desk)
    report = desk.run_automations()
    assert report.applied == {"ack_email": 1}
    verdicts = {v.rule_id: v.outcome for v in desk.explain_automation(fresh, actor=ANA)}
    assert verdicts["ack_email"] == "fired"
    assert len(old) == 5


def test_assign_by_the_teams_strategy(clock: FrozenClock) -> None:
    """An assign action without an agent runs the team's strategy (round robin here)."""
    from caselib import MemoryStore

    directory = StaticDirectory(
        [Team("tier2", "Tier 2", "round_robin", members=("bo", "cy"))],
        [Agent("bo", "Bo"), Agent("cy", "Cy")])
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock, directory=directory)
    desk.set_automation_rules([{
        "id": "vip", "trigger": {"event": "case.created"},
        "when": {"field": "priority", "equals": "urgent"},
        "actions": [{"do": "assign", "team": "tier2"}]}], actor=ADMIN)
    ids = [new_case(desk, "urgent") for _ in range(3)]
    desk.run_automations()
    owners = [desk.get_case(i, actor=ANA).assignee for i in ids]
    assert owners == ["bo", "cy", "bo"]


_CHILD = """
import sys
from datetime import UTC, datetime
from caselib import Actor, ServiceDesk

kind, where, schema = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "sqlite":
    from caselib.storage.sqlite import SqliteStore
    store = SqliteStore(where)
else:
    from caselib.storage.postgres import PostgresStore
    store = PostgresStore(where, schema=schema)
from caselib.testing import FrozenClock
desk = ServiceDesk(store, tenant="acme",
                   clock=FrozenClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
for name in ("ack_email", "critical_webhook"):
    desk.enable_automation_preset(name, actor=Actor.system("a"))
print(sum(desk.run_automations(batch=4).total_applied for _ in range(3)))
store.close()
"""


def test_two_os_processes_at_once(make_store: Callable[[], Store], clock: FrozenClock) -> None:
    """Two OS processes run the automations over one SQLite file / PostgreSQL schema at the
    same time: between them every rule applies exactly once per case."""
    import os
    import subprocess
    import sys

    store = make_store()
    path, schema = getattr(store, "path", None), getattr(store, "schema", None)
    if path is None and schema is None:
        pytest.skip("the memory store is one process")
    desk = make_desk(store, clock)
    ids = [new_case(desk, "urgent" if n % 2 else "normal") for n in range(40)]
    if path is not None:
        args = ["sqlite", str(path), "-"]
    else:
        from pg import DSN

        args = ["postgres", DSN, str(schema)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = [subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(2)]
    outputs = [c.communicate(timeout=300) for c in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err.decode()
    applied = [int(out.decode().split()[-1]) for out, _ in outputs]
    assert sum(applied) == 40 + 20
    with store.unit_of_work("acme") as uow:
        ledger = automation_ledger(uow)
        assert sum(len(ledger.applied(i)) for i in ids) == 60


def test_an_escalation_notifies_through_a_rule(clock: FrozenClock) -> None:
    """case.escalated is an automation event: a tenant's escalation notice goes out even
    when the case was urgent already."""
    from caselib import MemoryStore

    desk = make_desk(MemoryStore(), clock)
    desk.set_automation_rules([{
        "id": "esc", "trigger": {"event": "case.escalated"},
        "actions": [{"do": "notify", "who": ["owner", "manager"]}]}], actor=ADMIN)
    cid = desk.create_case(subject="Down", actor=ANA, priority="urgent", assignee="ana",
                           team="support").id
    desk.escalate(cid, actor=ANA, reason="customer called twice")
    assert desk.run_automations().applied == {"esc": 1}
    got = Recorder()
    desk.deliver_pending(got.channels())
    assert sorted(n.recipient for n in got.notices.values()) == ["ana", "mgr-ana"]


# -- escalation levels ------------------------------------------------------------------------


def ladder_desk(store: Store, clock: FrozenClock) -> ServiceDesk:
    """owner → manager → tier2 (the tier2 team takes the case, its lead is told)."""
    from caselib import TenantSettings
    from caselib.automation import EscalationLadder

    directory = StaticDirectory(
        [Team("support", "Support", "none", members=("ana",), manager_id="boss"),
         Team("tier2", "Tier 2", "none", members=("tom",), manager_id="tier2-lead")],
        [Agent("ana", "Ana", manager_id="mgr-ana"), Agent("tom", "Tom")])
    ladder = EscalationLadder.from_dict({"levels": [
        {"name": "owner"},
        {"name": "manager", "notify": ["owner", "manager"]},
        {"name": "tier2", "team": "tier2", "priority": "urgent", "notify": ["team"]}]})
    return ServiceDesk(store, tenant="acme", clock=clock, directory=directory,
                       settings=TenantSettings(escalation=ladder))


def test_escalation_climbs_the_tenants_ladder(make_store: Callable[[], Store],
                                              clock: FrozenClock) -> None:
    """Each escalate() moves one level up, shows it on the case (stored on every store),
    records from/to level and reason on the timeline, and queues the level's own notice."""
    store = make_store()
    desk = ladder_desk(store, clock)
    cid = desk.create_case(subject="Down", actor=ANA, priority="high", assignee="ana",
                           team="support").id
    assert desk.get_case(cid, actor=ANA).escalation_level is None
    case = desk.escalate(cid, actor=ANA, reason="customer called twice")
    assert (case.escalation_level, case.priority.value, case.team) == ("manager", "high",
                                                                       "support")
    got = Recorder()
    desk.deliver_pending(got.channels())
    assert sorted((n.recipient, n.kind) for n in got.notices.values()) == [
        ("ana", "escalation"), ("mgr-ana", "escalation")]
    assert all("escalated to manager" in n.subject for n in got.notices.values())

    case = desk.escalate(cid, actor=ANA, reason="still down")
    assert (case.escalation_level, case.priority.value, case.team, case.assignee) == (
        "tier2", "urgent", "tier2", None)
    again = desk.get_case(cid, actor=ANA)  # read back from the store
    assert again.escalation_level == "tier2"
    entries = [e for e in again.timeline if e.kind == "escalated"]
    assert [(e.data["from_level"], e.data["to_level"], e.body) for e in entries] == [
        (None, "manager", "customer called twice"), ("manager", "tier2", "still down")]
    assert entries[1].data["notified"] == ["tier2-lead"]
    got = Recorder()
    desk.deliver_pending(got.channels())
    assert [n.recipient for n in got.notices.values()] == ["tier2-lead"]

    from caselib import Case
    from caselib.serialize import from_dict, to_dict

    doc = to_dict(again)
    assert doc["escalation_level"] == "tier2"
    assert from_dict(doc, Case).escalation_level == "tier2"


def test_escalation_levels_refuse_what_cannot_be(clock: FrozenClock) -> None:
    """An unknown level, a level not above the current one, the top, or to_level without a
    ladder: typed errors that name what to do, and the case unchanged."""
    from caselib import CommandRefused, InvalidInput, MemoryStore

    desk = ladder_desk(MemoryStore(), clock)
    cid = desk.create_case(subject="Down", actor=ANA, assignee="ana", team="support").id
    with pytest.raises(UnknownValue, match="manager, tier2"):
        desk.escalate(cid, actor=ANA, to_level="ceo")
    with pytest.raises(InvalidInput, match="moves up only"):
        desk.escalate(cid, actor=ANA, to_level="owner")
    assert desk.escalate(cid, actor=ANA, to_level="tier2").escalation_level == "tier2"
    with pytest.raises(CommandRefused, match="top escalation level 'tier2'"):
        desk.escalate(cid, actor=ANA)
    case = desk.get_case(cid, actor=ANA)
    assert [e.kind for e in case.timeline].count("escalated") == 1

    plain = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    other = plain.create_case(subject="x", actor=ANA).id
    with pytest.raises(InvalidInput, match="defines no escalation levels"):
        plain.escalate(other, actor=ANA, to_level="manager")
    assert plain.escalate(other, actor=ANA).escalation_level == "1"  # numbered by default
    assert plain.escalate(other, actor=ANA).escalation_level == "2"


def test_to_team_picks_the_level_of_that_team(clock: FrozenClock) -> None:
    from caselib import MemoryStore

    desk = ladder_desk(MemoryStore(), clock)
    cid = desk.create_case(subject="Down", actor=ANA, assignee="ana", team="support").id
    case = desk.escalate(cid, actor=ANA, to_team="tier2")
    assert (case.escalation_level, case.team) == ("tier2", "tier2")


@pytest.mark.parametrize(("raw", "error"), [
    ({"levels": [{"name": "owner"}]}, "at least two levels"),
    ({"levels": [{"name": "a"}, {"name": "a"}]}, "two escalation levels are named 'a'"),
    ({"levels": [{"name": "a"}, {"name": "b", "notify": ["ceo"]}]}, "ceo"),
    ({"levels": [{"name": "a"}, {"name": "b", "colour": "red"}]}, "colour"),
    ({"levels": [{"name": "a"}, {"name": "b", "priority": "sky-high"}]}, "sky-high"),
    ({"levels": [{"name": "a"}, {"name": "b", "template": {
        "subject": "{{ case.number }}", "body": "x"}}]}, "audience 'internal'"),
    ({"levels": "owner"}, "list of escalation levels"),
    ({"rungs": []}, "rungs"),
])
def test_a_bad_ladder_is_a_typed_error(raw: Any, error: str) -> None:
    from caselib import InvalidInput
    from caselib.automation import EscalationLadder

    with pytest.raises(InvalidInput, match=error):  # InvalidConfiguration / UnknownValue
        EscalationLadder.from_dict(raw)


def test_a_ladder_round_trips_its_json_form() -> None:
    from caselib.automation import EscalationLadder

    raw = {"levels": [{"name": "owner"}, {"name": "tier2", "notify": ["team"],
                                           "team": "tier2", "priority": "urgent"}]}
    assert EscalationLadder.from_dict(raw).to_dict() == raw
