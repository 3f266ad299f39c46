"""Automation use cases: managing the tenant's rules, :func:`run_automations` (event rules
from the outbox stream, then due time rules) and :func:`explain_automation`.

Exactly once: each application is a ledger row ``(rule, case, occurrence)`` written in the
same unit of work as the case's timeline entry and the ``automation.applied`` outbox event
that carries the rendered deliveries; a second run finds the row and does nothing. No loops:
what a rule's actions do is done as the actor ``automation:<rule id>``, and an event caused
by that actor never triggers that rule (:func:`~caselib.automation.rules_for_event`), and
rules that trigger one another stop after ``TenantSettings.automation_chain_limit`` in a row
(:func:`_chain_of`: the depth rides on each application's timeline entry, so no store or
event schema changes for it).
Delivery happens after the commit (:mod:`caselib.desk.delivery`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.access import Permission
from caselib.automation import (
    AUTOMATION_ACTOR_PREFIX,
    AUTOMATION_EVENT,
    AddNote,
    Assign,
    AutomationApplied,
    AutomationReport,
    AutomationRule,
    CreateTask,
    EventTrigger,
    Notify,
    RuleVerdict,
    SendEmail,
    SetField,
    TimeRules,
    TimeTrigger,
    Transition,
    Webhook,
    preset,
    rule_matches,
    rules_for_event,
    time_occurrence,
)
from caselib.cases import Actor, Case
from caselib.cases.merge import refuse_if_merged
from caselib.desk import _inputs as check
from caselib.desk import triage
from caselib.desk._context import DeskContext
from caselib.desk.moves import gated_move
from caselib.desk.retry import retry_conflicts
from caselib.desk.triage import routing_facts
from caselib.errors import CaselibError, CaseNotFound, WrongType
from caselib.ports import (
    AppliedRule,
    AutomationLedger,
    applied_to_cases,
    automation_ledger,
    get_for_update,
    get_many_for_update,
    schedule_cases,
)
from caselib.timeutil import aware_utc, to_iso
from caselib.vocab import ActorKind, Audience

__all__ = [
    "automation_rules",
    "enable_preset",
    "explain_automation",
    "run_automations",
    "set_automation_rules",
]

_ATTEMPTS: Final = 5
_STOPPED: Final = "automation_stopped"
"""The timeline entry of a rule not applied because its chain was too deep."""


# -- rule management ------------------------------------------------------------------------


def automation_rules(ctx: DeskContext) -> tuple[AutomationRule, ...]:
    return ctx.settings.automations


def set_automation_rules(ctx: DeskContext, rules: Sequence[AutomationRule | Mapping[str, Any]],
                         *, actor: Actor) -> tuple[AutomationRule, ...]:
    """Validate every rule first (dicts through :meth:`AutomationRule.from_dict`), then
    replace the tenant's rules; a bad rule changes nothing."""
    check.actor(actor)
    ctx.access.require(actor, Permission.ADMIN)
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Sequence):
        raise WrongType("rules", "a list of AutomationRule or rule dicts", rules)
    parsed = tuple(r if isinstance(r, AutomationRule) else AutomationRule.from_dict(r)
                   for r in rules)
    ids = [r.id for r in parsed]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        from caselib.errors import InvalidConfiguration

        raise InvalidConfiguration(f"two automation rules have the id {dupes[0]!r}")
    if parsed:
        # automations turned on for a tenant with history start with the next event: a
        # tenant enabling the acknowledgment mail must not mail every case it ever had
        with ctx.uow() as uow:
            if automation_ledger(uow).start_cursor():
                uow.commit()
    ctx.settings = attrs.evolve(ctx.settings, automations=parsed)
    return parsed


def enable_preset(ctx: DeskContext, name: str, *, actor: Actor, **settings: Any
                  ) -> AutomationRule:
    """Add (or replace, by id) the preset rule ``name``."""
    check.actor(actor)
    if not isinstance(name, str):
        raise WrongType("name", "a preset name (text)", name)
    rule = preset(name, **settings)
    rest = [r for r in ctx.settings.automations if r.id != rule.id]
    set_automation_rules(ctx, [*rest, rule], actor=actor)
    return rule


# -- running --------------------------------------------------------------------------------


def _actor(rule: AutomationRule) -> Actor:
    return _rule_actor(rule.id, rule.label)


@functools.lru_cache(maxsize=1024)
def _rule_actor(rule_id: str, label: str) -> Actor:
    """The actor of a rule's actions, made once per rule (an :class:`Actor` is a frozen
    value whose checks are a visible share of a sweep applying thousands of rules)."""
    return Actor(AUTOMATION_ACTOR_PREFIX + rule_id, ActorKind.SYSTEM, frozenset({"admin"}),
                 label)


class _Batch:
    """The cases one unit of work has loaded, saved once each at the end."""

    def __init__(self, ctx: DeskContext, ledger: AutomationLedger, now: datetime,
                 report: AutomationReport) -> None:
        self.ctx = ctx
        self.ledger = ledger
        self.now = now
        self.report = report
        self.cases: dict[str, tuple[Case, int]] = {}
        self.changed: set[str] = set()
        # per case, valid until a rule changes it: its routing facts and time anchors
        self._facts: dict[str, dict[str, object]] = {}
        self._memo: dict[str, dict[object, object]] = {}

    def facts(self, case: Case) -> dict[str, object]:
        facts = self._facts.get(case.id)
        if facts is None:
            facts = self._facts[case.id] = routing_facts(case)
        return facts

    def memo(self, case: Case) -> dict[object, object]:
        return self._memo.setdefault(case.id, {})

    def load(self, uow: Any, case_id: str) -> Case | None:
        got = self.cases.get(case_id)
        if got is None:
            try:
                case, _ = get_for_update(uow.cases, case_id)
            except CaseNotFound:
                return None
            got = self.cases[case_id] = (case, case.version)
        return got[0]

    def preload(self, uow: Any, case_ids: Sequence[str]) -> None:
        """Load and lock the cases of ``case_ids`` not loaded yet, in one read when the
        store can (absent ones stay absent: :meth:`load` then returns ``None``)."""
        wanted = [i for i in case_ids if i not in self.cases]
        for case in get_many_for_update(uow.cases, wanted)[0]:
            self.cases[case.id] = (case, case.version)

    def apply(self, uow: Any, rule: AutomationRule, case: Case, occurrence: str,
              chain: int = 1, event: Mapping[str, object] | None = None) -> bool:
        """Record and apply ``rule`` unless the ledger already has this occurrence; ``chain``:
        how many automations this application would make in a row (see :func:`_chain_of`);
        past the tenant's limit the occurrence is recorded as stopped instead."""
        if not rule_matches(rule, self.facts(case), self.memo(case)):
            self.report.not_matched += 1
            return False
        if not self.ledger.record(AppliedRule(rule.id, case.id, occurrence, self.now)):
            self.report.already_applied += 1
            return False
        limit = self.ctx.settings.automation_chain_limit
        if chain > limit:
            case.record_activity(
                _actor(rule), self.now, _STOPPED,
                f"{rule.label}: not applied, it would be automation {chain} in a row "
                f"(limit {limit})", rule=rule.id, occurrence=occurrence, chain=chain,
                limit=limit)
            self.changed.add(case.id)
            self.report.chain_stopped += 1
            return False
        state = (case.status, case.resolved_at, case.sla_targets)
        _apply(self.ctx, uow, rule, case, occurrence, self.now, self.report, chain, event)
        self.changed.add(case.id)
        # what the actions changed decides what is still known: condition verdicts hold
        # while the facts are the same, time anchors while the status and SLA state are
        old_facts = self._facts.pop(case.id, None)
        memo = self._memo.pop(case.id, None)
        if memo is not None and old_facts is not None and self.facts(case) == old_facts:
            kept: dict[object, object] = {
                k: v for k, v in memo.items() if isinstance(k, tuple) and k[0] == "when"}
            if state == (case.status, case.resolved_at, case.sla_targets):
                kept = memo
            self._memo[case.id] = kept
        self.report.applied[rule.id] = self.report.applied.get(rule.id, 0) + 1
        return True

    def finish(self, uow: Any, timed: TimeRules) -> None:
        """Reschedule every loaded case, save the changed ones (the page's ledger rows read
        and its schedule rows written in one go)."""
        ids = [i for i in self.cases if timed.rules or i in self.changed]
        applied_by = applied_to_cases(self.ledger, ids)
        plan: list[tuple[str, datetime | None]] = []
        for case_id in ids:
            case = self.cases[case_id][0]
            applied = {(a.rule_id, a.occurrence) for a in applied_by[case_id]}
            applied |= self._recorded(case)
            plan.append((case_id, timed.next_at(case, self.facts(case), applied, self.now,
                                                self.memo(case))))
        schedule_cases(self.ledger, plan)
        for case_id, (case, loaded) in self.cases.items():
            if case_id in self.changed:
                self.ctx.after_change(case, self.now)
                uow.cases.save(case, loaded)

    @staticmethod
    def _recorded(case: Case) -> set[tuple[str, str]]:
        # this unit of work's own records are not committed yet: read them off the events
        return {(e.rule_id, e.occurrence) for e in case.pending_events
                if isinstance(e, AutomationApplied)}


def run_automations(ctx: DeskContext, now: datetime | None, *, batch: int) -> AutomationReport:
    """Event rules over the outbox stream, then time rules over the due cases."""
    check.count(batch, "batch")
    now = ctx.now() if now is None else aware_utc(now, "now")
    report = AutomationReport(now)
    rules = tuple(r for r in ctx.settings.automations if r.enabled)
    if not rules:  # nothing to apply: leave the cursor where it is (or unborn)
        return report
    timed = TimeRules(rules)
    while retry_conflicts(lambda: _event_batch(ctx, rules, timed, now, batch, report),
                           attempts=_ATTEMPTS):
        pass
    if timed.rules:
        while retry_conflicts(lambda: _due_batch(ctx, timed, now, batch, report),
                               attempts=_ATTEMPTS):
            pass
    return report


def _chain_of(case: Case, actor: str, at: datetime) -> int:
    """How many automations in a row led to the event ``actor`` caused at ``at``: 0 when a
    person or the system caused it; for an automation's action, the ``chain`` recorded on
    that rule's latest ``automation`` timeline entry at or before ``at`` (its actions share
    its instant). When the rule applied several times at that instant (one run's ``now``)
    the deepest counts: a chain may then end early, never run on."""
    if not actor.startswith(AUTOMATION_ACTOR_PREFIX):
        return 0
    rule_id = actor[len(AUTOMATION_ACTOR_PREFIX):]
    found: datetime | None = None
    depth = 1
    for entry in reversed(case.timeline):
        if entry.kind != "automation" or entry.at > at or entry.data.get("rule") != rule_id:
            continue
        if found is not None and entry.at < found:
            break
        found = entry.at
        chain = entry.data.get("chain", 1)
        depth = max(depth, chain if type(chain) is int else 1)
    return depth


def _event_batch(ctx: DeskContext, rules: Sequence[AutomationRule], timed_rules: TimeRules,
                 now: datetime, batch: int, report: AutomationReport) -> bool:
    """Handle one claim of the event stream; ``True`` when more may be waiting. The ledger
    hands each event out once (late commits included), so every event it returns is
    handled here."""
    with ctx.uow() as uow:
        ledger = automation_ledger(uow)
        events = ledger.claim_events(batch)
        if events is None:
            report.busy = True
            return False
        if not events:
            return False
        work = _Batch(ctx, ledger, now, report)
        timed = bool(timed_rules.rules)
        for event in events:
            message = event.message
            report.events_read += 1
            if message.type == AUTOMATION_EVENT:
                continue
            actor = str(message.payload.get("actor", ""))
            matched = rules_for_event(rules, message.type, actor)
            if not matched and not (timed and not actor.startswith(AUTOMATION_ACTOR_PREFIX)):
                continue
            case = work.load(uow, message.case_id)
            if case is None:
                continue
            chain = _chain_of(case, actor, message.created_at) + 1 if matched else 0
            for rule in matched:
                work.apply(uow, rule, case, message.key, chain, message.payload)
        work.finish(uow, timed_rules)
        ledger.advance(max(e.seq for e in events))
        uow.commit()
        return len(events) >= batch


def _due_batch(ctx: DeskContext, timed: TimeRules, now: datetime, batch: int,
               report: AutomationReport) -> bool:
    with ctx.uow() as uow:
        ledger = automation_ledger(uow)
        due = ledger.claim_due(now, batch)
        if not due:
            return False
        report.due_cases += len(due)
        work = _Batch(ctx, ledger, now, report)
        work.preload(uow, due)
        for case_id in due:
            case = work.load(uow, case_id)
            if case is None:
                ledger.schedule(case_id, None)
                continue
            _sweep_case(work, uow, timed, case)
        work.finish(uow, timed)
        uow.commit()
        return len(due) >= batch


def _sweep_case(work: _Batch, uow: Any, timed: TimeRules, case: Case) -> None:
    """Apply the due time rules to ``case`` in rule order, as checking each rule in turn
    would: only the index's candidates are evaluated (the rest count as not matched), and
    the candidates are looked up again whenever an applied rule changed the case's facts."""
    rules = timed.rules
    facts = work.facts(case)
    mask = timed.candidates(facts)
    left = (1 << len(rules)) - 1  # the positions not yet looked at
    while left:
        hits = mask & left
        if not hits:
            work.report.not_matched += left.bit_count()
            return
        low = hits & -hits
        work.report.not_matched += (left & (low - 1)).bit_count()
        left &= ~((low << 1) - 1)
        rule = rules[low.bit_length() - 1]
        memo = work.memo(case)
        if not rule_matches(rule, facts, memo):
            work.report.not_matched += 1
            continue
        assert isinstance(rule.trigger, TimeTrigger)
        occ = time_occurrence(rule.trigger, case, memo)
        if occ is not None and occ.due_at <= work.now and work.apply(uow, rule, case, occ.key):
            now_facts = work.facts(case)
            if now_facts is not facts:
                facts, mask = now_facts, timed.candidates(now_facts)


# -- applying one rule ------------------------------------------------------------------------


def _apply(ctx: DeskContext, uow: Any, rule: AutomationRule, case: Case, occurrence: str,
           now: datetime, report: AutomationReport, chain: int = 1,
           event: Mapping[str, object] | None = None) -> None:
    """Carry out the case-changing actions, render the deliveries, record it all on the
    timeline and queue the deliveries as one ``automation.applied`` event."""
    from caselib.desk.delivery import render_deliveries

    actor = _actor(rule)
    done: list[str] = []
    failed: list[dict[str, str]] = []
    for action in rule.actions:
        try:
            if isinstance(action, (AddNote, SetField, Assign, Transition)):
                # a merged case takes no commands (they go to the survivor): a rule on
                # case.merged may notify, but must not change what unmerge puts back
                refuse_if_merged(case)
            if isinstance(action, AddNote):
                case.add_comment(action.body, audience=Audience.INTERNAL, actor=actor, at=now)
            elif isinstance(action, SetField):
                _set_field(ctx, case, action, actor, now)
            elif isinstance(action, Assign):
                _assign(ctx, uow, case, action, actor, now, rule)
            elif isinstance(action, Transition):
                # every gate, the tenant's too (open children, a required checklist)
                gated_move(ctx, case, action.to, actor=actor, at=now, note=action.note,
                           uow=uow)
            done.append(action.kind)
        except CaselibError as err:
            report.failed_actions += 1
            failed.append({"action": action.kind, "error": str(err)})
    deliveries = render_deliveries(ctx, rule, case, occurrence, now, event)
    done.extend(d["channel"] for d in deliveries)
    trigger = (rule.trigger.event if isinstance(rule.trigger, EventTrigger)
               else rule.trigger.to_dict())
    deeper = {} if chain == 1 else {"chain": chain}  # (entries of a first link stay as were)
    case.record_activity(actor, now, "automation", rule.label, rule=rule.id,
                         occurrence=occurrence, trigger=trigger, actions=done, failed=failed,
                         **deeper)
    case.emit(AutomationApplied(case.id, case.tenant, now, actor.id, rule.id, occurrence,
                                deliveries))


def _assign(ctx: DeskContext, uow: Any, case: Case, action: Assign, actor: Actor,
            now: datetime, rule: AutomationRule) -> None:
    """To the named agent, or by the team's assignment strategy (as routing assigns)."""
    team = action.team or case.team
    agent, reason = action.agent, f"automation {rule.id}"
    if agent is None and team is not None:
        outcome = triage._choose_in_team(ctx, uow, case, team, now)
        if outcome is not None:
            agent, reason = outcome.agent_id, outcome.reason
    case.assign(assignee=agent or case.assignee, team=team, actor=actor, at=now,
                manual=False, reason=reason)


def _set_field(ctx: DeskContext, case: Case, action: SetField, actor: Actor,
               now: datetime) -> None:
    if action.field == "priority":
        assert isinstance(action.value, str)
        case.change_priority(action.value, actor=actor, at=now, reason="automation")
    elif action.field.startswith("custom."):
        case.update_fields({"custom": {action.field[7:]: action.value}}, actor=actor, at=now,
                           policy=ctx.settings.policy)
    else:
        value = list(action.value) if isinstance(action.value, tuple) else action.value
        case.update_fields({action.field: value}, actor=actor, at=now,
                           policy=ctx.settings.policy)


# -- explaining -------------------------------------------------------------------------------


def explain_automation(ctx: DeskContext, case_id: str, *, actor: Actor,
                       now: datetime | None = None) -> list[RuleVerdict]:
    """Per rule: fired (when, for which occurrence), or why not."""
    check.case_id(case_id)
    check.actor(actor)
    case = ctx.read(case_id, actor)
    now = ctx.now() if now is None else now
    with ctx.uow() as uow:
        applied = automation_ledger(uow).applied(case.id)
    facts = routing_facts(case)
    stopped = {(e.data.get("rule"), e.data.get("occurrence")): e.body for e in case.timeline
               if e.kind == _STOPPED}
    out: list[RuleVerdict] = []
    for rule in ctx.settings.automations:
        mine = [a for a in applied if a.rule_id == rule.id]
        for a in mine:
            why = stopped.get((rule.id, a.occurrence))
            if why is not None:
                out.append(RuleVerdict(rule.id, rule.label, "stopped",
                                       f"{why}; for {a.occurrence}", a.at))
                continue
            out.append(RuleVerdict(rule.id, rule.label, "fired",
                                   f"applied for {a.occurrence}", a.at))
        if not rule.enabled:
            out.append(RuleVerdict(rule.id, rule.label, "disabled", "the rule is turned off"))
            continue
        matches = rule.when.matches(facts)
        cond = "" if matches else f"; its condition {rule.when.to_dict()} does not match now"
        if isinstance(rule.trigger, EventTrigger):
            if not mine:
                out.append(RuleVerdict(
                    rule.id, rule.label, "waiting_for_event" if matches else "not_matched",
                    f"fires on {rule.trigger.event}; none applied it to this case{cond}"))
            continue
        occ = time_occurrence(rule.trigger, case)
        if occ is None:
            out.append(RuleVerdict(rule.id, rule.label, "no_occurrence",
                                   f"the case is not in the state {rule.trigger.to_dict()}"))
        elif any(a.occurrence == occ.key for a in mine):
            continue
        elif occ.due_at > now:
            out.append(RuleVerdict(rule.id, rule.label, "not_due",
                                   f"due at {to_iso(occ.due_at)}{cond}", occ.due_at))
        else:
            out.append(RuleVerdict(
                rule.id, rule.label, "not_matched" if not matches else "not_due",
                f"due since {to_iso(occ.due_at)}" + (cond or "; the next run applies it"),
                occ.due_at))
    return out


_ = (CreateTask, Notify, SendEmail, Webhook)  # rendered by caselib.desk.delivery
