"""Case lifecycles as data, compiled into python-statemachine machines.

A :class:`Workflow` lists statuses (each with a :class:`~caselib.vocab.StatusCategory` that SLA
clocks and metrics understand), the allowed transitions, and gates on them. Tenants define
their own (a kanban board's columns, say) with :meth:`Workflow.from_dict`; caselib ships three
presets: :meth:`Workflow.default`, :meth:`Workflow.simple` and :meth:`Workflow.kanban`.

:meth:`Workflow.compile` validates the workflow and builds two equivalent forms:

- a python-statemachine ``StateMachine`` subclass, which every status-changing command runs
  through (its validators enforce the gates). Machines cost ~60 µs to construct, so the
  compiled workflow keeps one machine per thread and points it at a tiny shuttle object
  holding the case's status, instead of building one per loaded case;
- a plain transition table (dict lookups, well under a microsecond) for bulk and read paths
  such as :meth:`CompiledWorkflow.allowed_transitions`. Property tests check the two agree.

Hosts never import ``statemachine``: errors come out as caselib errors.

Gates: entering any status of category *resolved* or *closed* always requires a note (that is
how reopening can keep what was done before). ``"note"`` can be added to any other transition,
and ``"assignee"`` requires the case to have an owner. A failed gate raises
:class:`~caselib.errors.GateRequired` naming it (``NoteRequired`` for the note gate).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

import attrs
from statemachine import State, StateMachine
from statemachine.exceptions import InvalidDefinition
from statemachine.exceptions import TransitionNotAllowed as _MachineRefused

from caselib.cases.case import Case
from caselib.cases.values import Actor
from caselib.checks import require_instances, require_str, str_set
from caselib.errors import (
    GateRequired,
    InvalidConfiguration,
    NoteRequired,
    TransitionNotAllowed,
    UnknownValue,
    WrongType,
)
from caselib.vocab import StatusCategory

__all__ = [
    "GATES",
    "CompiledWorkflow",
    "Status",
    "Transition",
    "Workflow",
]

GATES = frozenset({"note", "assignee"})
"""Gate names a transition may carry."""

_STATUS_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NOTE_CATEGORIES = (StatusCategory.RESOLVED, StatusCategory.CLOSED)


def slug(label: str) -> str:
    """``"Pending Customer"`` → ``"pending_customer"`` (how board columns become status ids)."""
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")


def _category(value: object) -> StatusCategory:
    return StatusCategory.parse(value)


def _label(value: object) -> str:
    """Text, or ``None`` (a ``null`` label in plain data) for "made from the id"."""
    return "" if value is None else require_str(value, "label", "text for people (or '')")


def _status_id(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    require_str(value, attribute.name, "a status id such as 'open'")


@attrs.frozen
class Status:
    """One workflow status: a stable id, its category, and a label for people (empty or
    ``None``: made from the id, ``pending_customer`` → ``Pending Customer``)."""

    id: str
    category: StatusCategory = attrs.field(converter=_category)
    label: str = attrs.field(default="", converter=_label)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not _STATUS_ID.match(self.id):
            raise InvalidConfiguration(
                f"status id {self.id!r} must be snake_case (a-z, 0-9, _), starting with a letter"
            )
        if not self.label:
            object.__setattr__(self, "label", self.id.replace("_", " ").title())


def _gates(value: object) -> frozenset[str]:
    return str_set(value, "gates")


@attrs.frozen
class Transition:
    """An allowed move ``source → target`` and the gates that must hold to take it."""

    source: str = attrs.field(validator=_status_id)
    target: str = attrs.field(validator=_status_id)
    gates: frozenset[str] = attrs.field(default=frozenset(), converter=_gates)


def _statuses(values: object) -> tuple[Status, ...]:
    return require_instances(values, "statuses", Status, "a list of Status values")


def _transitions(values: object) -> tuple[Transition, ...]:
    return require_instances(values, "transitions", Transition, "a list of Transition values")


def _name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    require_str(value, attribute.name, "text such as 'support'")


def _initial(_instance: object, attribute: Any, value: object) -> None:
    if value is not None:
        require_str(value, attribute.name, "a status id or None (the first status of "
                    "category new)")


@attrs.frozen
class Workflow:
    """A lifecycle as plain data. Immutable; :meth:`compile` validates and compiles it."""

    name: str = attrs.field(validator=_name)
    statuses: tuple[Status, ...] = attrs.field(converter=_statuses)
    transitions: tuple[Transition, ...] = attrs.field(converter=_transitions)
    initial: str | None = attrs.field(default=None, validator=_initial)
    """The status new cases start in; defaults to the first status of category *new*."""

    # -- presets ------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Workflow:
        """new → open → in_progress → pending_customer → resolved → closed.

        ``pending_customer → in_progress`` when the customer answers; resolved or closed cases
        reopen to ``open``. Nothing skips forward (a case is not resolved before someone has
        worked it and heard back). Resolving and closing need a note.
        """
        return cls(
            "default",
            [
                Status("new", StatusCategory.NEW),
                Status("open", StatusCategory.OPEN),
                Status("in_progress", StatusCategory.OPEN, "In progress"),
                Status("pending_customer", StatusCategory.WAITING, "Pending customer"),
                Status("resolved", StatusCategory.RESOLVED),
                Status("closed", StatusCategory.CLOSED),
            ],
            [
                *_chain("new", "open", "in_progress", "pending_customer", "resolved", "closed"),
                Transition("pending_customer", "in_progress"),
                Transition("resolved", "open"),
                Transition("closed", "open"),
            ],
        )

    @classmethod
    def direct(cls) -> Workflow:
        """:meth:`default`'s chain plus ``in_progress → resolved``: a fix that needs no answer
        from the customer is resolved without a detour through ``pending_customer``.

        The preset a new tenant should start from when its agents often fix and close in one
        sitting (most desks); :meth:`default` enforces "heard back before resolved".

        .. versionadded:: 0.3
        """
        base = cls.default()
        return cls("direct", base.statuses,
                   [*base.transitions, Transition("in_progress", "resolved")])

    @classmethod
    def simple(cls) -> Workflow:
        """New / Open / Pending / Resolved / Closed, with Pending ↔ Open."""
        return cls(
            "simple",
            [
                Status("new", StatusCategory.NEW, "New"),
                Status("open", StatusCategory.OPEN, "Open"),
                Status("pending", StatusCategory.WAITING, "Pending"),
                Status("resolved", StatusCategory.RESOLVED, "Resolved"),
                Status("closed", StatusCategory.CLOSED, "Closed"),
            ],
            [
                Transition("new", "open"),
                Transition("open", "pending"),
                Transition("pending", "open"),
                Transition("open", "resolved"),
                Transition("resolved", "closed"),
                Transition("resolved", "open"),
                Transition("closed", "open"),
            ],
        )

    @classmethod
    def kanban(
        cls,
        extra_columns: Iterable[tuple[str, StatusCategory | str] | Status] = (),
        *,
        name: str = "kanban",
    ) -> Workflow:
        """A board: Backlog, Pending Agent, In Progress, Pending Customer, Resolved + your columns.

        Cards move freely between columns (that is what a board is for); the gates still apply,
        so dropping a card on Resolved needs a note. ``extra_columns`` are ``(label, category)``
        pairs or :class:`Status` objects, e.g. ``[("QA Review", "open"), ("Closed", "closed")]``.
        """
        columns = [
            Status("backlog", StatusCategory.NEW, "Backlog"),
            Status("pending_agent", StatusCategory.OPEN, "Pending Agent"),
            Status("in_progress", StatusCategory.OPEN, "In Progress"),
            Status("pending_customer", StatusCategory.WAITING, "Pending Customer"),
            Status("resolved", StatusCategory.RESOLVED, "Resolved"),
        ]
        for column in extra_columns:
            if isinstance(column, Status):
                columns.append(column)
            else:
                label, category = column
                columns.append(Status(slug(label), StatusCategory.parse(category), label))
        transitions = [
            Transition(a.id, b.id) for a in columns for b in columns if a.id != b.id
        ]
        return cls(name, columns, transitions)

    # -- plain data ---------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Workflow:
        """Build from plain data (JSON), e.g.::

            {"name": "support", "initial": "new",
             "statuses": [{"id": "new", "category": "new"}, ...],
             "transitions": [{"from": "new", "to": "open", "gates": ["assignee"]}, ...]}

        Raises :class:`~caselib.errors.InvalidConfiguration` naming what is wrong.
        """
        try:
            statuses = [
                Status(s["id"], s.get("category"), s.get("label", ""))
                if s.get("category") is not None
                else _missing_category(s["id"])
                for s in data["statuses"]
            ]
            transitions = [
                Transition(t["from"], t["to"], frozenset(t.get("gates", ())))
                for t in data["transitions"]
            ]
            return cls(str(data["name"]), statuses, transitions, data.get("initial"))
        except KeyError as err:
            raise InvalidConfiguration(f"workflow data is missing key {err}") from err
        except (UnknownValue, WrongType) as err:
            raise InvalidConfiguration(f"workflow {data.get('name')!r}: {err}",
                                       field=err.field) from err

    def to_dict(self) -> dict[str, Any]:
        """The inverse of :meth:`from_dict`."""
        return {
            "name": self.name,
            "initial": self.initial_status,
            "statuses": [
                {"id": s.id, "category": s.category.value, "label": s.label}
                for s in self.statuses
            ],
            "transitions": [
                {"from": t.source, "to": t.target, "gates": sorted(t.gates)}
                for t in self.transitions
            ],
        }

    @property
    def initial_status(self) -> str:
        """The status new cases start in."""
        if self.initial is not None:
            return self.initial
        for status in self.statuses:
            if status.category is StatusCategory.NEW:
                return status.id
        return self.statuses[0].id if self.statuses else ""

    def compile(self) -> CompiledWorkflow:
        """Validate and compile; raises :class:`InvalidConfiguration` with the reason."""
        return CompiledWorkflow(self)


def _missing_category(status_id: object) -> Status:
    raise InvalidConfiguration(f"status {status_id!r} has no category "
                               f"(one of: {', '.join(c.value for c in StatusCategory)})")


def _chain(*ids: str) -> list[Transition]:
    return [Transition(a, b) for a, b in itertools.pairwise(ids)]


class _Shuttle:
    """What the pooled machine is bound to: just the status being checked."""

    __slots__ = ("status",)

    def __init__(self, status: str) -> None:
        self.status = status


def _gate_note(target: str, category: StatusCategory) -> Any:
    what = "a resolution summary" if category is StatusCategory.RESOLVED else "a note"

    def gate_note(note: str | None = None, note_parameter: str = "note") -> None:
        if note is None or not str(note).strip():
            raise NoteRequired(target, what, parameter=note_parameter)

    return gate_note


def _gate_assignee(target: str) -> Any:
    def gate_assignee(assignee: str | None = None) -> None:
        if not assignee:
            raise GateRequired(target, "assignee", "an assignee",
                               how="assign the case first (ServiceDesk.assign)")

    return gate_assignee


class CompiledWorkflow:
    """A validated workflow with its state machine class and transition table."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.name = workflow.name
        self._validate()
        self.categories: dict[str, StatusCategory] = {
            s.id: s.category for s in workflow.statuses
        }
        self.initial = workflow.initial_status
        table: dict[str, dict[str, frozenset[str]]] = {s.id: {} for s in workflow.statuses}
        for t in workflow.transitions:
            gates = set(t.gates)
            if self.categories[t.target] in _NOTE_CATEGORIES:
                gates.add("note")
            table[t.source][t.target] = frozenset(gates)
        self.table = table
        self._allowed = {s: tuple(targets) for s, targets in table.items()}
        self.machine_class = self._build_machine_class()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<CompiledWorkflow {self.name!r} {len(self.categories)} statuses>"

    # -- validation -----------------------------------------------------------------------------

    def _validate(self) -> None:
        wf = self.workflow
        where = f"workflow {wf.name!r}"
        if not wf.statuses:
            raise InvalidConfiguration(f"{where} has no statuses")
        ids = [s.id for s in wf.statuses]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise InvalidConfiguration(f"{where} lists status {dupes[0]!r} twice")
        known = set(ids)
        if wf.initial_status not in known:
            raise InvalidConfiguration(
                f"{where}: initial status {wf.initial_status!r} is not one of its statuses")
        seen: set[tuple[str, str]] = set()
        for t in wf.transitions:
            for end in (t.source, t.target):
                if end not in known:
                    raise InvalidConfiguration(
                        f"{where}: transition {t.source!r} → {t.target!r} names unknown status "
                        f"{end!r}; known: {', '.join(ids)}")
            if t.source == t.target:
                raise InvalidConfiguration(f"{where}: {t.source!r} → itself is not a transition")
            if (t.source, t.target) in seen:
                raise InvalidConfiguration(
                    f"{where}: transition {t.source!r} → {t.target!r} is listed twice")
            seen.add((t.source, t.target))
            bad = set(t.gates) - GATES
            if bad:
                raise InvalidConfiguration(
                    f"{where}: transition {t.source!r} → {t.target!r} has unknown gate "
                    f"{sorted(bad)[0]!r}; gates: {', '.join(sorted(GATES))}")
        reachable = {wf.initial_status}
        frontier = [wf.initial_status]
        while frontier:
            here = frontier.pop()
            for t in wf.transitions:
                if t.source == here and t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        unreachable = [i for i in ids if i not in reachable]
        if unreachable:
            raise InvalidConfiguration(
                f"{where}: status {unreachable[0]!r} cannot be reached from "
                f"{wf.initial_status!r}; add a transition into it or remove it")

    def _build_machine_class(self) -> type[StateMachine]:
        wf = self.workflow
        # No state is ``final``: a machine that enters a final state terminates and refuses
        # every later event, which would kill the pooled machine. Terminal statuses (a
        # custom workflow's "archived") are plain states; caselib validated reachability
        # itself above, so the library's trap/final checks are switched off.
        states = {
            s.id: State(s.label, value=s.id, initial=s.id == self.initial)
            for s in wf.statuses
        }
        namespace: dict[str, Any] = dict(states)
        namespace["validate_trap_states"] = False
        namespace["validate_final_reachability"] = False
        for target in states:
            group = None
            for source, targets in self.table.items():
                if target not in targets:
                    continue
                validators = []
                if "note" in targets[target]:
                    validators.append(_gate_note(target, self.categories[target]))
                if "assignee" in targets[target]:
                    validators.append(_gate_assignee(target))
                move = states[source].to(states[target], validators=validators)
                group = move if group is None else group | move
            if group is not None:
                namespace[f"to_{target}"] = group
        try:
            return type(f"{wf.name.title().replace('_', '')}Machine", (StateMachine,), namespace)
        except InvalidDefinition as err:
            raise InvalidConfiguration(f"workflow {wf.name!r}: {err}") from err

    # -- reading ----------------------------------------------------------------------------------

    @cached_property
    def statuses(self) -> tuple[str, ...]:
        """Status ids in workflow order."""
        return tuple(s.id for s in self.workflow.statuses)

    def category(self, status: str) -> StatusCategory:
        """The category of ``status``; :class:`UnknownValue` if the workflow has no such status."""
        try:
            return self.categories[status]
        except (KeyError, TypeError):
            raise UnknownValue("status", status, self.statuses) from None

    def allowed_transitions(self, status: str) -> tuple[str, ...]:
        """Targets reachable in one step from ``status`` (table lookup, no machine)."""
        try:
            return self._allowed[status]
        except (KeyError, TypeError):
            raise UnknownValue("status", status, self.statuses) from None

    def can_transition(self, source: str, target: str) -> bool:
        """Table check: is ``source → target`` a transition (gates aside)?"""
        targets = self.table.get(source)
        return targets is not None and target in targets

    def gates(self, source: str, target: str) -> frozenset[str]:
        """Gates on ``source → target`` (always includes ``"note"`` into resolved/closed)."""
        return self.table[source][target]

    def first_target(self, source: str, categories: Sequence[StatusCategory]) -> str | None:
        """The first allowed target from ``source`` whose category is in ``categories``."""
        for target in self.allowed_transitions(source):
            if self.categories[target] in categories:
                return target
        return None

    # -- running -----------------------------------------------------------------------------------

    def _machine(self) -> tuple[_Shuttle, StateMachine]:
        pair: tuple[_Shuttle, StateMachine] | None = getattr(self._local, "pair", None)
        if pair is None:
            shuttle = _Shuttle(self.initial)
            pair = (shuttle, self.machine_class(model=shuttle, state_field="status"))
            self._local.pair = pair
        return pair

    def check(self, source: str, target: str, *, note: str | None = None,
              assignee: str | None = None, note_parameter: str = "note") -> None:
        """Run ``source → target`` through the state machine; raise if it is refused.

        ``note_parameter`` is what the calling command names its note (``summary`` for a
        resolve), so a refusal tells the caller which argument to pass.

        Raises:
            UnknownValue: either status is not in this workflow.
            TransitionNotAllowed: no such transition.
            NoteRequired: the note gate failed (a :class:`GateRequired` with ``gate="note"``).
            GateRequired: another gate failed; ``gate`` names it (``"assignee"``).
        """
        self.category(source)
        self.category(target)
        shuttle, machine = self._machine()
        shuttle.status = source
        gated = bool(self.table[source].get(target))
        try:
            if gated:
                machine.send(f"to_{target}", note=note, assignee=assignee,
                             note_parameter=note_parameter)
            else:  # no validator reads them: skip the library's argument plumbing
                machine.send(f"to_{target}")
        except _MachineRefused:
            raise TransitionNotAllowed(source, target, self._allowed[source]) from None
        except AttributeError:
            # no transition at all leads to ``target``: the event does not exist
            raise TransitionNotAllowed(source, target, self._allowed[source]) from None
        finally:
            shuttle.status = self.initial

    def apply(
        self,
        case: Case,
        target: str,
        *,
        actor: Actor,
        at: datetime,
        note: str | None = None,
        resolution_code: str | None = None,
        csat: int | None = None,
        note_parameter: str = "note",
    ) -> None:
        """Move ``case`` to ``target`` if the workflow allows it, recording the change.

        ``note_parameter`` names the note as the calling command calls it (see :meth:`check`).
        """
        if case.workflow != self.name:
            raise InvalidConfiguration(
                f"case {case.number} follows workflow {case.workflow!r}, not {self.name!r}")
        self.check(case.status, target, note=note, assignee=case.assignee,
                   note_parameter=note_parameter)
        case.move_to(target, self.categories[target], actor=actor, at=at, note=note,
                     resolution_code=resolution_code, csat=csat, note_parameter=note_parameter)
