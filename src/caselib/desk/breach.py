"""Recording SLA breaches on one case, and what the sweep reports and sends about them.

:func:`record_breaches` decides, on the SLA part of a case, every breach that has happened by
the sweep's instant (with the escalation each brings), and :func:`_breach_notifications` words
the messages sent once the breach is committed. The sweep that walks the due cases and writes
them in batches is :mod:`caselib.desk.sweep`.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from caselib.cases import Actor, SlaBreached
from caselib.desk._context import DeskContext
from caselib.ports import Notification
from caselib.sla import SlaCase, SlaPolicies, evaluate, mark_breached
from caselib.timeutil import to_iso
from caselib.vocab import Priority

__all__ = ["BreachNotice", "SweepReport", "breach_recipients", "record_breaches"]


@attrs.frozen
class BreachNotice:
    """One breach the sweep recorded: which case and target, and who was told."""

    case_id: str
    number: str
    target: str
    due_at: datetime
    breached_by_seconds: float
    old_priority: Priority
    new_priority: Priority
    notified: tuple[str, ...]
    from_level: str | None = None
    to_level: str | None = None
    """The escalation levels the breach moved the case between (``None``: it did not move;
    see :meth:`~caselib.automation.EscalationLadder.after_breach`)."""

    @property
    def effect(self) -> str:
        """What the breach changed, in words: ``"priority high → urgent"`` or ``"priority
        stays urgent"``, then the escalation level it reached, if any."""
        old, new = self.old_priority.value, self.new_priority.value
        text = f"priority {old} → {new}" if old != new else f"priority stays {new}"
        if self.to_level is not None:
            text = f"{text}; escalated to level {self.to_level}"
        return text

    def describe(self) -> str:
        """One line for a report: ``"breached first_response (12 min late); priority stays
        urgent; escalated to level manager; notified: ana, mgr-ana"``."""
        return (f"breached {self.target} ({self.breached_by_seconds / 60:.0f} min late); "
                f"{self.effect}; notified: {', '.join(self.notified) or 'nobody'}")


@attrs.frozen
class SweepReport:
    """What one :meth:`ServiceDesk.sweep_breaches` run did."""

    at: datetime
    examined: int
    breaches: tuple[BreachNotice, ...]
    conflicts: int
    """Cases another sweeper (or a command) changed first; they were re-read and re-checked."""
    examined_ids: tuple[str, ...] = ()
    """The cases this run examined, each once, in the order it first took them. With
    sweepers on several hosts over a store that claims due cases (PostgreSQL's ``SKIP
    LOCKED``), two runs at the same instant examine disjoint sets: this is how to see it."""

    @property
    def cases_breached(self) -> int:
        """Distinct cases with at least one new breach."""
        return len({b.case_id for b in self.breaches})


_Found = list[tuple[BreachNotice, str]]
"""Breaches recorded on a case, each with the case's subject (for its notifications)."""


def record_breaches(
    ctx: DeskContext,
    case: SlaCase,
    now: datetime,
    actor: Actor,
    policies: SlaPolicies,
) -> _Found | None:
    """Mark every newly breached target of ``case`` and escalate; ``None``: nothing to save.

    Marking a breach raises the priority a rung, which re-derives the other targets'
    due times, which may breach them too: repeat at the same instant until nothing new
    breaches, so a second sweep at the same instant finds nothing. Each breach comes
    with the case's subject, which its notifications quote (they are only written out
    when there is a notifier to send them).
    """
    policy = policies.policy_for(case)
    ladder = ctx.settings.escalation
    before = [(t.name, t.due_at, t.state) for t in case.sla_targets]
    result = evaluate(case, policy, now)
    found: _Found = []
    for _round in range(8):  # each round marks ≥ 1 of at most three targets
        if not result.newly_breached:
            break
        marked = mark_breached(result, result.newly_breached, now)
        case.sla_targets = list(marked)
        old, old_level = case.priority, case.escalation_level
        recipients = breach_recipients(ctx, case)
        round_breaches = []
        for name in result.newly_breached:  # one rung per breached target, capped
            target = next(t for t in marked if t.name == name)
            assert target.due_at is not None
            late = target.breached_by_seconds or 0.0
            was, rung = case.priority, case.priority.raise_one_rung()
            text = f"{_label(name)} target breached (due {_minutes(target.due_at)} UTC)"
            if rung is not was:
                text = f"{text}; priority {was.value} → {rung.value}"
            else:
                text = f"{text}; priority stays {was.value}"
            levels: dict[str, str | None] = {}
            step = None if ladder is None else ladder.after_breach(case.escalation_level)
            if step is not None:
                levels = {"from_level": case.escalation_level, "to_level": step.name}
                case.escalation_level = step.name
                text = f"{text}; escalated to level {step.name}"
            # one entry for the breach and the rung it raised (see Case.record_breach)
            case.record_breach(
                name,
                text,
                actor=actor,
                at=now,
                priority=rung,
                breached_by_seconds=late,
                notified=list(recipients),
                **levels,
            )
            case.emit(
                SlaBreached(
                    case.id, case.tenant, now, actor.id, name, target.due_at, late, recipients
                )
            )
            round_breaches.append((name, target.due_at, late))
        moved = case.escalation_level != old_level
        found.extend(
            (
                BreachNotice(case.id, case.number, name, due, late, old, case.priority, recipients,
                             old_level if moved else None,
                             case.escalation_level if moved else None),
                case.subject,
            )
            for name, due, late in round_breaches
        )
        result = evaluate(case, policy, now)
    case.pauses = list(result.pauses)
    case.sla_targets = list(result.targets)
    if not found and [(t.name, t.due_at, t.state) for t in result.targets] == before:
        return None  # nothing new: write nothing, so a repeat sweep is a no-op
    return found


def breach_recipients(ctx: DeskContext, case: SlaCase) -> tuple[str, ...]:
    """Owner and owner's manager; with no owner, the team's queue contact."""
    people: list[str] = []
    directory = ctx.directory
    if case.assignee:
        people.append(case.assignee)
        manager = None if directory is None else directory.manager_of(case.assignee)
        if manager:
            people.append(manager)
    elif case.team and directory is not None:
        team = directory.team(case.team)
        if team is not None and team.queue_contact:
            people.append(team.queue_contact)
        if team is not None and team.manager_id:
            people.append(team.manager_id)
    elif case.team:
        people.append(f"queue:{case.team}")
    return tuple(dict.fromkeys(people))


def _label(target: str) -> str:
    return target.replace("_", " ")


def _minutes(at: datetime) -> str:
    """``f"{at:%Y-%m-%d %H:%M}"`` for a UTC datetime of the years 1000-9999 (every due time
    the sweep meets), from its memoised ISO text."""
    text = to_iso(at)
    return f"{text[:10]} {text[11:16]}"


def _breach_notifications(notice: BreachNotice, subject: str) -> list[Notification]:
    """The messages telling ``notice.notified`` about a breach. The key is the same on
    every attempt, so a notifier can drop a repeat."""
    label, number, due = _label(notice.target), notice.number, notice.due_at
    return [
        Notification(
            who,
            f"SLA breached: {number} {label}",
            f"{number} '{subject}' missed its {label} target (due {_minutes(due)} UTC); "
            f"{notice.effect}.",
            notice.case_id,
            "sla_breached",
            f"{notice.case_id}:{notice.target}:{due.isoformat()}:{who}",
        )
        for who in notice.notified
    ]
