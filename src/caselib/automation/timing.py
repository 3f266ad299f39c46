"""When rules fire: the occurrence of a time trigger on a case, business-day arithmetic,
the next automation time of a case, and the verdict of one rule on one case.

Pure functions of a case, the rules, what the ledger already holds and ``now``; the desk
reads the clock and the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

import attrs

from caselib.automation.rules import AutomationRule, EventTrigger, TimeTrigger
from caselib.cases import Case
from caselib.timeutil import to_iso
from caselib.vocab import StatusCategory

__all__ = [
    "AUTOMATION_ACTOR_PREFIX",
    "Occurrence",
    "RuleVerdict",
    "add_business_days",
    "next_automation_at",
    "rule_matches",
    "rules_for_event",
    "time_occurrence",
]

AUTOMATION_ACTOR_PREFIX: Final = "automation:"
"""Actor id prefix of what a rule's actions write (``automation:<rule id>``): events caused by
a rule never trigger that rule again."""

_DAY: Final = timedelta(days=1)


@attrs.frozen
class Occurrence:
    """One firing opportunity of a rule on a case: ``key`` is what the ledger records (the
    event's outbox key, or the time trigger's anchor), ``due_at`` when it may fire."""

    key: str
    due_at: datetime


@attrs.frozen
class RuleVerdict:
    """What one rule made of one case (for :meth:`ServiceDesk.explain_automation`)."""

    rule_id: str
    name: str
    outcome: str
    """``fired``, ``not_matched``, ``not_due``, ``no_occurrence``, ``disabled`` or
    ``waiting_for_event``."""
    reason: str
    at: datetime | None = None


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` business days (Monday to Friday, counted in ``start``'s zone);
    a start on a weekend counts from the next Monday at the same time of day."""
    at = start
    while at.weekday() >= 5:
        at += _DAY
    weeks, rest = divmod(days, 5)
    at += timedelta(weeks=weeks)
    while rest:
        at += _DAY
        if at.weekday() < 5:
            rest -= 1
    return at


def _entered(case: Case, category: StatusCategory) -> datetime | None:
    """When the case last entered ``category`` (it is in it now), from its timeline."""
    if case.status_category is not category:
        return None
    for entry in reversed(case.timeline):
        data = entry.data
        if (entry.kind == "status_changed" and data.get("new_category") == category.value
                and data.get("old_category") != category.value):
            return entry.at
    return case.created_at


def time_occurrence(trigger: TimeTrigger, case: Case,
                    memo: dict[object, object] | None = None) -> Occurrence | None:
    """The case's current occurrence of ``trigger`` (``None``: the case is not in the state).

    The key names the anchor and its time, so leaving the state and entering it again is a
    new occurrence, while re-reading the same state is the same one. ``memo``: a dict kept
    for one state of one case, so many rules on the same anchor read the timeline once.
    """
    if memo is not None:
        hit = memo.get(trigger, _MISS)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
    anchor_key = (trigger.anchor, trigger.category, trigger.target)
    cached = memo.get(anchor_key, _MISS) if memo is not None else _MISS
    found: tuple[str, datetime] | None
    if cached is _MISS:
        found = _anchor(trigger, case)
        if memo is not None:
            memo[anchor_key] = found
    else:
        found = cached  # type: ignore[assignment]
    occ: Occurrence | None = None
    if found is not None:
        name, anchor = found
        if trigger.business:
            due = add_business_days(anchor, trigger.after // _DAY)
        else:
            due = anchor + trigger.after
        occ = Occurrence(f"{name}@{to_iso(anchor)}", due)
    if memo is not None:
        memo[trigger] = occ
    return occ


_MISS: Final = object()


def _anchor(trigger: TimeTrigger, case: Case) -> tuple[str, datetime] | None:
    anchor: datetime | None
    name = trigger.anchor
    if trigger.anchor == "category":
        assert trigger.category is not None
        anchor = _entered(case, trigger.category)
        name = f"category={trigger.category.value}"
    elif trigger.anchor == "created":
        anchor = case.created_at
    elif trigger.anchor == "resolved":
        anchor = (case.resolved_at if case.status_category in
                  (StatusCategory.RESOLVED, StatusCategory.CLOSED) else None)
    else:
        anchor = None
        for target in case.sla_targets:
            if (target.name == trigger.target and target.state == "running"
                    and target.warn_at is not None):
                anchor = target.warn_at
        name = f"sla_warning={trigger.target}"
    return None if anchor is None else (name, anchor)


def rules_for_event(rules: Iterable[AutomationRule], event_type: str, actor: str
                    ) -> list[AutomationRule]:
    """The enabled rules ``event_type`` triggers, leaving out the rule whose own action
    caused the event (``actor`` ``automation:<rule id>``): no rule re-triggers itself."""
    return [r for r in rules
            if r.enabled and isinstance(r.trigger, EventTrigger)
            and r.trigger.event == event_type and actor != AUTOMATION_ACTOR_PREFIX + r.id]


def rule_matches(rule: AutomationRule, facts: Mapping[str, object],
                 memo: dict[object, object] | None = None) -> bool:
    """``rule.when`` on ``facts``, remembered in ``memo`` (one state of one case)."""
    if memo is None:
        return rule.when.matches(facts)
    key = ("when", rule.id)
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = rule.when.matches(facts)
    return bool(hit)


def next_automation_at(rules: Iterable[AutomationRule], case: Case,
                       facts: Mapping[str, object], applied: Collection[tuple[str, str]],
                       now: datetime, memo: dict[object, object] | None = None
                       ) -> datetime | None:
    """The earliest time a time rule may fire on ``case`` and has not yet (``applied``: the
    ledger's (rule id, occurrence key) pairs of this case); ``None`` when none can.

    An occurrence already due whose condition does not hold now is left out: it waits for
    the case to change (each change recomputes this) instead of being re-read every sweep.
    """
    best: datetime | None = None
    for rule in rules:
        if not rule.enabled or not isinstance(rule.trigger, TimeTrigger):
            continue
        occ = time_occurrence(rule.trigger, case, memo)
        if occ is None or (rule.id, occ.key) in applied:
            continue
        if occ.due_at <= now and not rule_matches(rule, facts, memo):
            continue
        if best is None or occ.due_at < best:
            best = occ.due_at
    return best
