"""SLA clocks: when a case's targets are due, and whether they broke.

This module is the pure domain part of SLAs. Nothing here reads a clock, a store or the desk:
every function takes the case, the policy and ``now`` and returns values, so the desk can call
it after every command and the breach sweep can call it for thousands of cases, and tests can
replay any history.

Rules
-----
* **Due times are re-derived every time** from the clock's start (``case.sla_started_at``, else
  ``created_at``), the target for the case's *current* priority, the business calendar and the
  pause history. They never depend on ``now``: evaluating the same case at two instants gives
  the same ``due_at``. A priority change therefore moves the due time as if the case had had
  the new priority from the start.
* **Pauses come from the timeline** (:func:`derive_pauses`): the clock stops while the status
  category is *waiting* (reason ``"waiting"``) and between a resolve and a reopen (reason
  ``"resolved"``). The stored ``case.pauses`` is an index the desk may write, never an input.
* **Met**: first response at ``case.first_response_at`` (the first public reply by an agent);
  resolution while the case is resolved or closed, at the instant it entered that stretch (a
  reopen un-meets it and the clock resumes, the resolved gap not counted); next reply when an
  agent publicly answers an unanswered customer reply. A met target keeps its due time; if it
  was met after the due time it is ``met`` with ``breached_by_seconds`` (the lateness).
* **Breached is set only by** :func:`mark_breached` (the sweep), never by :func:`evaluate`: an
  overdue target that nobody swept yet stays ``running``/``warning`` with ``due_at <= now`` and
  is listed in ``newly_breached``. This keeps "newly breached" meaningful: if ``evaluate``
  itself wrote ``breached`` after an ordinary command, the sweep would never see the breach as
  new and would never escalate or notify.
* **A breach is sticky**: a target stored as breached on the case stays breached with its
  ``breached_at`` even when a later priority change moves the due time or the target is met.
  ``breached_by_seconds`` of a breached target is the business time from ``breached_at`` to
  when it was met, or to ``now`` while it is still open.
* **Next reply** cycles: a cycle starts at the *oldest unanswered* public customer reply after
  an agent's public reply (measuring from the latest one would let every follow-up "please
  hurry" restart the clock) and ends at the next agent public reply. Only the latest cycle is
  shown. A breach is sticky within its cycle; the next cycle gets a fresh target (the earlier
  breach stays on record in the timeline the sweep writes).
* **Warnings**: ``warn_fraction`` (amber once that fraction of the target's business time is
  used) and ``warn_before`` (amber that much *business* time before due). With both, the earlier
  instant wins, so adding a second rule can only make a warning come sooner.
* **"Breached by"** is measured in business seconds on the policy's calendar.
* Everything is deterministic in ``(case, policy, now)`` and idempotent: evaluating a case whose
  targets came from an earlier evaluation at the same ``now`` gives the same targets.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

import attrs

from caselib.cases import Pause, SlaTarget, next_due_of
from caselib.errors import InvalidInput
from caselib.sla.calendar import BusinessCalendar
from caselib.sla.durations import _ZERO
from caselib.sla.policy import FIRST_RESPONSE, NEXT_REPLY, TARGET_NAMES, SlaPolicy
from caselib.sla.subject import SlaSubject
from caselib.timeutil import aware_utc
from caselib.vocab import ActorKind, Audience, StatusCategory

__all__ = [
    "SlaEvaluation",
    "derive_pauses",
    "due_with_pauses",
    "evaluate",
]


# --- pauses and due times ----------------------------------------------------------------------


def _pause_reason(category: StatusCategory) -> str | None:
    if category is StatusCategory.WAITING:
        return "waiting"
    if category in (StatusCategory.RESOLVED, StatusCategory.CLOSED, StatusCategory.MERGED):
        return "resolved"
    return None


def _status_changes(case: SlaSubject) -> list[tuple[datetime, StatusCategory, StatusCategory]]:
    """``(at, old_category, new_category)`` for each status change, in timeline order."""
    return [
        (e.at, _category(e.data.get("old_category")), _category(e.data.get("new_category")))
        for e in case.timeline
        if e.kind == "status_changed"
    ]


_CATEGORIES: Final = {c.value: c for c in StatusCategory}
_MERGED: Final = StatusCategory.MERGED.value


def _category(value: object) -> StatusCategory:
    """A stored category name → member; a dict hit on the hot path of every evaluation."""
    found = _CATEGORIES.get(value) if isinstance(value, str) else None
    return found if found is not None else StatusCategory.parse(value)


def derive_pauses(case: SlaSubject) -> list[Pause]:
    """Spans during which SLA clocks stand still, read from the case's status history.

    * status category *waiting* → reason ``"waiting"`` (the ball is in the customer's court);
    * from entering *resolved/closed* until a reopen → reason ``"resolved"`` (resolved → closed
      continues the same pause); a case merged away is paused the same way while it is
      merged, but a merge that was undone (unmerge) leaves no pause: the stretch counts as
      if the merge never happened;
    * a pause still going on has ``end=None``; zero-length pauses are dropped.

    Waiting followed directly by resolved gives two adjacent pauses with their own reasons, so
    an explanation can say what stopped the clock when.
    """
    timeline = case.timeline
    memo = case.memo.get("pauses")
    if memo is not None and memo[0] <= len(timeline) and not memo[4]:
        # The timeline is append-only, so the fold over its first ``n`` entries still holds
        # (unless it ended inside a merge, which a later unmerge takes back: fold again).
        done, closed_so_far, reason, since, _ = memo
        closed = list(closed_so_far)
    else:
        first = next((e for e in timeline if e.kind == "status_changed"), None)
        initial = (case.status_category if first is None
                   else _category(first.data.get("old_category")))
        done, closed = 0, []
        reason = _pause_reason(initial)
        since = case.created_at if reason else None
        if first is None:
            return [Pause(since, None, reason)] if since is not None and reason else []
    # the fold as it stood before an open merge: an unmerge puts it back (one pass, no
    # look-ahead; a merged case takes no other status change, so nothing lies between)
    before_merge: tuple[int, str | None, datetime | None] | None = None
    for entry in timeline[done:]:
        if entry.kind != "status_changed":
            continue
        data = entry.data
        if data.get("old_category") == _MERGED and before_merge is not None:
            kept, reason, since = before_merge
            del closed[kept:]
            before_merge = None
            continue
        if data.get("new_category") == _MERGED:
            before_merge = (len(closed), reason, since)
        at = entry.at
        new_reason = _pause_reason(_category(data.get("new_category")))
        if new_reason == reason:
            continue
        if since is not None and reason is not None and at > since:
            closed.append(Pause(since, at, reason))
        reason, since = new_reason, (at if new_reason else None)
    case.memo["pauses"] = (len(timeline), tuple(closed), reason, since,
                           case.status_category is StatusCategory.MERGED)
    if since is not None and reason is not None:
        closed.append(Pause(since, None, reason))
    return closed


def _resolved_since(case: SlaSubject) -> datetime | None:
    """When the current resolved/closed stretch began; ``None`` while the case is active."""
    if case.status_category.is_active:
        return None
    changes = _status_changes(case)
    since: datetime | None = None
    if changes and not changes[0][1].is_active:
        since = case.created_at
    for at, _old, new in changes:
        if new.is_active:
            since = None
        elif since is None:
            since = at
    return since or case.resolved_at or case.closed_at or case.updated_at


def _reply_cycle(case: SlaSubject) -> tuple[datetime, datetime | None] | None:
    """The latest next-reply cycle: (oldest unanswered customer reply, agent answer or None)."""
    start: datetime | None = None
    answered: datetime | None = None
    agent_replied = False
    for e in case.timeline:
        if e.kind != "reply" or e.audience is not Audience.PUBLIC:
            continue
        if e.actor_kind is ActorKind.AGENT:
            if start is not None and answered is None:
                answered = e.at
            agent_replied = True
        elif (
            e.actor_kind is ActorKind.CUSTOMER
            and agent_replied
            and (start is None or answered is not None)
        ):
            start, answered = e.at, None
    return None if start is None else (start, answered)


def _merged_spans(
    pauses: Iterable[Pause], start: datetime
) -> list[tuple[datetime, datetime | None]]:
    """Pauses clipped to ``>= start``, sorted and merged; an open pause swallows what follows."""
    spans: list[tuple[datetime, datetime | None]] = []
    items = sorted(
        (
            (
                aware_utc(p.start, "pause.start"),
                None if p.end is None else aware_utc(p.end, "pause.end"),
            )
            for p in pauses
        ),
        key=lambda span: span[0],
    )
    for s, e in items:
        if e is not None and e <= max(s, start):
            continue  # empty, or over before the clock started
        s = max(s, start)
        if spans:
            last_s, last_e = spans[-1]
            if last_e is None:
                break
            if s <= last_e:
                spans[-1] = (last_s, None if e is None else max(e, last_e))
                continue
        spans.append((s, e))
    return spans


def due_with_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The instant at which ``target`` of business time has elapsed since ``start``, not
    counting time inside ``pauses``; ``None`` if an ongoing pause (``end=None``) began before
    that instant (the clock is stopped and nobody knows yet when it resumes).

    Equal to ``calendar.add`` over the un-paused spans: the calendar's rules (start outside
    hours begins at the next opening, a due time on a closing time stays there, a zero target
    is ``next_open``) carry over. Cost: one or two calendar calls per pause.
    """
    start = aware_utc(start, "start")
    if not isinstance(target, timedelta) or target < _ZERO:
        raise InvalidInput(
            f"target must be a non-negative timedelta, got {target!r}", field="target"
        )
    return _due(calendar, start, target, tuple(pauses))


def _due(
    calendar: BusinessCalendar, start: datetime, target: timedelta, pauses: tuple[Pause, ...]
) -> datetime | None:
    """:func:`due_with_pauses` on checked inputs.

    An un-paused clock on a 24/7 calendar is one addition, cheaper than a cache lookup (and
    the breach sweep meets each case's start once, so caching it would only churn the
    cache); everything else goes through the memo.
    """
    if not pauses and calendar.is_always_open:
        return start + target
    return _due_memo(calendar, start, target, pauses)


@functools.lru_cache(maxsize=16_384)
def _due_memo(
    calendar: BusinessCalendar, start: datetime, target: timedelta, pauses: tuple[Pause, ...]
) -> datetime | None:
    """:func:`_due`, memoised.

    Every command re-derives a case's dues from the same start and pause history, so most
    calls repeat an earlier one; all arguments are immutable values, so caching is exact.
    """
    cur, remaining = start, target
    if calendar.is_always_open:  # business time is elapsed time: plain UTC arithmetic
        for s, e in _merged_spans(pauses, start):
            if s > cur:
                if cur + remaining <= s:
                    return cur + remaining
                remaining -= s - cur
            if e is None:
                return None
            cur = max(cur, e)
        return cur + remaining
    for s, e in _merged_spans(pauses, start):
        if s > cur:
            candidate = calendar.add(cur, remaining)
            if candidate <= s:
                return candidate
            remaining -= calendar.business_between(cur, s)
        if e is None:
            return None
        cur = max(cur, e)
    return calendar.add(cur, remaining)


def _until(pauses: Sequence[Pause], t: datetime) -> list[Pause]:
    """The pauses as they stood at ``t``: later ones dropped, one going on at ``t`` ended there.

    A met target's clock stopped when it was met, so what happens afterwards must not move
    its due time.
    """
    out = []
    for p in pauses:
        if p.start < t:
            end = t if p.end is None or p.end > t else p.end
            out.append(Pause(p.start, end, p.reason))
    return out


def _warn_at(
    policy: SlaPolicy, start: datetime, target: timedelta, pauses: Sequence[Pause]
) -> datetime | None:
    cal = policy.calendar
    found: list[datetime] = []
    spans = tuple(pauses)
    if policy.warn_fraction is not None:
        at = _due(cal, start, target * policy.warn_fraction, spans)
        if at is not None:
            found.append(at)
    if policy.warn_before is not None:
        at = _due(cal, start, max(target - policy.warn_before, _ZERO), spans)
        if at is not None:
            found.append(at)
    return min(found) if found else None


def _business_seconds(calendar: BusinessCalendar, a: datetime, b: datetime) -> float:
    return max(calendar.business_between(a, b).total_seconds(), 0.0)


def _elapsed(calendar: BusinessCalendar, clock: _Clock) -> int | None:
    """Whole business seconds ``clock`` ran from its start to when it was met, its pauses
    (already cut at ``met_at``) left out: the scorecard's business-time duration."""
    end = clock.met_at
    if end is None or end <= clock.start:
        return None if end is None else 0
    paused = 0.0
    for s, e in _merged_spans(clock.pauses, clock.start):
        stop = end if e is None else min(e, end)
        if stop > s:
            paused += _business_seconds(calendar, s, stop)
    return max(int(_business_seconds(calendar, clock.start, end) - paused), 0)


# --- evaluation ---------------------------------------------------------------------------------


@attrs.define
class _Clock:
    """What one target's clock is made of, before ``now`` and stored state are considered.

    Private and never mutated; not frozen because a frozen attrs instance costs three times
    as much to build, and evaluation builds a few per case (the sweep: per due case, twice).
    """

    name: str
    duration: timedelta
    start: datetime
    pauses: tuple[Pause, ...]
    met_at: datetime | None
    due_at: datetime | None
    warn_at: datetime | None


def _clock(
    case: SlaSubject, policy: SlaPolicy, name: str, pauses: Sequence[Pause]
) -> _Clock | None:
    duration = policy.targets_for(case.priority).get(name)
    if duration is None:
        return None
    met_at: datetime | None
    if name == NEXT_REPLY:
        cycle = _reply_cycle(case)
        if cycle is None:
            return None
        start, met_at = cycle
    else:
        start = aware_utc(case.sla_started_at or case.created_at, "sla_started_at")
        met_at = case.first_response_at if name == FIRST_RESPONSE else _resolved_since(case)
    relevant = tuple(pauses if met_at is None else _until(pauses, met_at))
    return _Clock(
        name,
        duration,
        start,
        relevant,
        met_at,
        _due(policy.calendar, start, duration, relevant),
        _warn_at(policy, start, duration, relevant),
    )


@attrs.frozen
class SlaEvaluation:
    """The SLA state of a case at ``now`` under ``policy``.

    ``targets`` is what the desk stores in ``case.sla_targets``, ``pauses`` what it stores in
    ``case.pauses``; ``newly_breached`` names the targets the sweep should mark with
    :func:`mark_breached` (overdue, not met, not yet marked).
    """

    targets: tuple[SlaTarget, ...]
    pauses: tuple[Pause, ...]
    newly_breached: tuple[str, ...]
    policy: SlaPolicy
    now: datetime

    def target(self, name: str) -> SlaTarget | None:
        """The target called ``name``, if the case has one."""
        return next((t for t in self.targets if t.name == name), None)

    @property
    def next_due_at(self) -> datetime | None:
        """Earliest due time among targets that can still breach (running or warning)."""
        return next_due_of(self.targets)


def evaluate(case: SlaSubject, policy: SlaPolicy, now: datetime) -> SlaEvaluation:
    """Re-derive every SLA target of ``case`` under ``policy`` and classify it at ``now``.

    States: ``met`` (stopped; ``breached_by_seconds`` set when met late), ``paused`` (an
    ongoing pause began before the due time: ``due_at`` is ``None``), ``warning``
    (``now >= warn_at``), ``running``, and ``breached`` only for targets already marked
    breached on the case (sticky; see the module rules). Targets without a duration for the
    case's priority are left out, except that a stored breach is always kept.

    Deterministic in ``(case, policy, now)``; ``due_at`` and ``warn_at`` do not depend on
    ``now``. Reads ``case.sla_targets`` only for stored breaches.
    """
    now = aware_utc(now, "now")
    pauses = tuple(derive_pauses(case))
    cal = policy.calendar
    prior = {t.name: t for t in case.sla_targets}
    targets: list[SlaTarget] = []
    newly: list[str] = []
    for name in TARGET_NAMES:
        prev = prior.pop(name, None)
        clock = _clock(case, policy, name, pauses)
        stored_breach = prev is not None and prev.state == "breached"
        if clock is None:
            if prev is not None and stored_breach:
                targets.append(prev)
            continue
        if (
            prev is not None
            and stored_breach
            and (name != NEXT_REPLY or (prev.breached_at or clock.start) > clock.start)
        ):
            breached_at = prev.breached_at or clock.due_at or clock.start
            end = now if clock.met_at is None else min(now, clock.met_at)
            targets.append(
                SlaTarget(
                    name,
                    clock.due_at,
                    "breached",
                    clock.warn_at,
                    breached_at,
                    clock.met_at,
                    _business_seconds(cal, breached_at, end),
                    _elapsed(cal, clock),
                )
            )
        elif clock.met_at is not None:
            late = None
            if clock.due_at is not None and clock.met_at > clock.due_at:
                late = _business_seconds(cal, clock.due_at, clock.met_at)
            targets.append(
                SlaTarget(name, clock.due_at, "met", clock.warn_at, None, clock.met_at, late,
                          _elapsed(cal, clock))
            )
        elif clock.due_at is None:
            targets.append(SlaTarget(name, None, "paused", clock.warn_at))
        else:
            warned = clock.warn_at is not None and clock.warn_at <= now
            targets.append(
                SlaTarget(name, clock.due_at, "warning" if warned else "running", clock.warn_at)
            )
            if clock.due_at <= now:
                newly.append(name)
    # Breaches of targets this policy does not know (another policy, a host's own) are facts too.
    targets.extend(t for t in prior.values() if t.state == "breached")
    return SlaEvaluation(tuple(targets), pauses, tuple(newly), policy, now)
