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
from caselib.routing.index import _candidates, _index_conditions
from caselib.timeutil import to_iso
from caselib.vocab import StatusCategory

__all__ = [
    "AUTOMATION_ACTOR_PREFIX",
    "Occurrence",
    "RuleVerdict",
    "TimeRules",
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
    """``fired``, ``stopped`` (a chain of automations too deep: see
    ``TenantSettings.automation_chain_limit``), ``not_matched``, ``not_due``,
    ``no_occurrence``, ``disabled`` or ``waiting_for_event``."""
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
        if found is not None:  # the occurrence key, shared by the triggers on this anchor
            found = (f"{found[0]}@{to_iso(found[1])}", found[1])
        if memo is not None:
            memo[anchor_key] = found
    else:
        found = cached  # type: ignore[assignment]
    occ: Occurrence | None = None
    if found is not None:
        key, anchor = found
        if trigger.business:
            due = add_business_days(anchor, trigger.after // _DAY)
        else:
            due = anchor + trigger.after
        occ = Occurrence(key, due)
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
    return TimeRules(rules).next_at(case, facts, applied, now, memo)


class TimeRules:
    """The enabled time rules of a tenant, compiled once per sweep.

    Why: a sweep looks at every due case under every time rule, and most rules' conditions
    name a field value the case does not have. The conditions are indexed like the router's
    (:mod:`caselib.routing.index`), so a case is checked only against the rules whose
    condition may hold on it; and rules sharing a trigger share one occurrence, so the next
    automation time is read per trigger rather than per rule. The verdicts are exactly the
    rule-by-rule ones.
    """

    __slots__ = ("_groups", "_index", "rules")

    def __init__(self, rules: Iterable[AutomationRule]) -> None:
        self.rules: tuple[AutomationRule, ...] = tuple(
            r for r in rules if r.enabled and isinstance(r.trigger, TimeTrigger))
        self._index = _index_conditions([r.when for r in self.rules])
        groups: dict[TimeTrigger, list[int]] = {}
        for position, rule in enumerate(self.rules):
            assert isinstance(rule.trigger, TimeTrigger)
            groups.setdefault(rule.trigger, []).append(position)
        self._groups = tuple((t, tuple(p)) for t, p in groups.items())

    def candidates(self, facts: Mapping[str, object]) -> int:
        """Bit ``i`` set: rule ``i``'s condition may hold on ``facts`` (unset: it does not)."""
        return _candidates(self._index, facts)

    def next_at(self, case: Case, facts: Mapping[str, object],
                applied: Collection[tuple[str, str]], now: datetime,
                memo: dict[object, object] | None = None) -> datetime | None:
        """What :func:`next_automation_at` returns for these rules."""
        rules = self.rules
        mask = -1
        best: datetime | None = None
        for trigger, positions in self._groups:
            occ = time_occurrence(trigger, case, memo)
            if occ is None or (best is not None and best <= occ.due_at):
                continue
            due = occ.due_at <= now
            if due and mask == -1:
                mask = self.candidates(facts)
            for position in positions:
                rule = rules[position]
                if (rule.id, occ.key) in applied:
                    continue
                if due and not ((mask >> position) & 1 and rule_matches(rule, facts, memo)):
                    continue
                best = occ.due_at
                break
        return best
