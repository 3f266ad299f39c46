"""The caselib error tree.

Every error caselib raises on purpose derives from :class:`CaselibError`, so a host can catch
one class at its web boundary. Each class carries a stable ``code``, the ``http_status`` a web
layer answers with, and :meth:`~CaselibError.to_dict`, a problem-details document (RFC 9457)
naming the fields involved::

    CaselibError                             500 caselib_error
    ├── InvalidInput (also ValueError)       422 invalid_input: fix the request, send it again
    │   ├── NaiveDatetime                    422 naive_datetime: a datetime without tzinfo
    │   ├── UnknownValue                     422 unknown_value: a status/priority/… not allowed
    │   ├── TextTooLong                      422 text_too_long: a field over its limit
    │   ├── InvalidConfiguration             422 invalid_configuration: a workflow, policy,
    │   │   │                                    calendar or rule set is broken
    │   │   └── InvalidRule (caselib.routing)    422 invalid_rule: names the rule's position
    │   └── WrongType (also TypeError)       422 wrong_type: an int where a list of tags goes,
    │                                            None as an actor, a dict as a case id …
    ├── CommandRefused                       409 command_refused: the case's state refuses it
    │   ├── TransitionNotAllowed             409 transition_not_allowed: current status, targets
    │   ├── GateRequired                     409 gate_required: a transition's gate is not met
    │   │   ├── NoteRequired                 422 note_required: the command's note is missing
    │   │   └── ChecklistIncomplete          409 checklist_incomplete: required items open
    │   ├── CaseMerged                       409 case_merged: act on the survivor instead
    │   ├── ReopenWindowClosed               409 reopen_window_closed: reply for a follow-up
    │   └── PermissionDenied                 403 permission_denied: the permission, its roles
    └── StorageError                         500 storage_error
        ├── NotFound (also LookupError)      404 not_found
        │   ├── CaseNotFound                 404 case_not_found
        │   └── ArticleNotFound              404 article_not_found
        ├── ConcurrencyConflict              409 concurrency_conflict: reload and retry
        ├── DuplicateKey                     409 duplicate_key: an id or number already exists
        └── SchemaMismatch                   500 schema_mismatch: written by a newer caselib

Why these statuses: every :class:`InvalidInput` is found after the host's web layer has parsed
the request, so the request is well formed but its content is refused — 422 (RFC 9110
§15.5.21), the status FastAPI and most JSON APIs already use for validation errors. A refusal
that depends on the case as stored (its status, a gate such as "has an owner", a version) is
409: the same request may succeed once the case changes. A missing note is the request's fault,
so :class:`NoteRequired` is 422 although it is a gate. A case of another tenant is 404, never
403, so a tenant cannot probe for another's ids.

Refusals and bad input are raised *before* anything is written: a command that raises leaves the
store exactly as it was. Adapters translate driver errors into :class:`StorageError` subclasses
with ``raise … from err`` so the driver's traceback stays attached.

``code`` is a contract: it never changes once released, and every class names its own (a test
walks the tree). ``to_dict()`` holds only JSON-native values.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final

__all__ = [
    "ArticleNotFound",
    "CaseMerged",
    "CaseNotFound",
    "CaselibError",
    "ChecklistIncomplete",
    "CommandRefused",
    "ConcurrencyConflict",
    "DuplicateKey",
    "ERROR_TYPE_PREFIX",
    "GateRequired",
    "InvalidConfiguration",
    "InvalidInput",
    "NaiveDatetime",
    "NotFound",
    "NoteRequired",
    "PermissionDenied",
    "ReopenWindowClosed",
    "SchemaMismatch",
    "StorageError",
    "TextTooLong",
    "TransitionNotAllowed",
    "UnknownValue",
    "WrongType",
]

ERROR_TYPE_PREFIX: Final = "urn:caselib:error:"
"""The problem ``type`` of an error is this prefix and its ``code`` (a URN: stable, and never
mistaken for a page to fetch)."""

_MAX_SHOWN: Final = 200
"""Longest text an error document echoes back (a refused 1 MB value stays in the log)."""


def _plain(value: object, depth: int = 0) -> Any:
    """``value`` as JSON-native data: what a web layer can always serialise.

    Errors echo what the caller sent, which may be anything (a dict where an id goes, NaN, a
    lone surrogate): containers are walked, text is cut at :data:`_MAX_SHOWN` and made
    encodable, enum members become their values, anything else becomes its ``repr``.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value, depth)
    if isinstance(value, int):
        return int(value) if abs(value) <= 2**53 else repr(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        text = str.__str__(value)
        if len(text) > _MAX_SHOWN:
            text = text[:_MAX_SHOWN] + "…"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no JSON encoder in UTF-8 takes it
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text
    if depth < 3 and isinstance(value, Mapping):
        return {_plain(str(k), depth + 1): _plain(v, depth + 1)
                for k, v in list(value.items())[:50]}
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_plain(v, depth + 1) for v in list(items)[:50]]
    return _plain(repr(value), depth)


class CaselibError(Exception):
    """Root of every error caselib raises on purpose.

    Attributes:
        code: stable snake_case name of the error (the same in every release).
        http_status: what a web layer answers with.
        title: a short, fixed summary of the kind of problem (the message is the detail).
    """

    code: ClassVar[str] = "caselib_error"
    http_status: ClassVar[int] = 500
    title: ClassVar[str] = "caselib error"
    problem_fields: ClassVar[tuple[str, ...]] = ()
    """Attributes :meth:`to_dict` adds to the document; subclasses add theirs to their
    parents' (collected along the class's MRO)."""

    def to_dict(self) -> dict[str, Any]:
        """A problem-details document (RFC 9457) with JSON-native values only::

            {"type": "urn:caselib:error:transition_not_allowed",
             "title": "Transition not allowed", "status": 409,
             "detail": "cannot move a case from 'new' to 'closed'; allowed from 'new': open",
             "code": "transition_not_allowed",
             "current": "new", "requested": "closed", "allowed": ["open"]}

        ``detail`` is the message; the extra members are the fields the error carries (the
        class's :attr:`problem_fields`, ``null`` when unset).
        """
        doc: dict[str, Any] = {
            "type": ERROR_TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.http_status,
            "detail": _plain(str(self)),
            "code": self.code,
        }
        for name in _fields_of(type(self)):
            doc.setdefault(name, _plain(getattr(self, name, None)))
        return doc


def _fields_of(cls: type[CaselibError]) -> list[str]:
    names: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        for name in klass.__dict__.get("problem_fields", ()):
            names.setdefault(name, None)
    return list(names)


# --- bad input -------------------------------------------------------------------------------


class InvalidInput(CaselibError, ValueError):
    """A value handed to caselib is malformed; nothing was changed.

    ``field`` names the offending input when there is one, so form layers can attach the
    message to the right widget.
    """

    code = "invalid_input"
    http_status = 422
    title = "Invalid input"
    problem_fields: ClassVar[tuple[str, ...]] = ("field",)

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NaiveDatetime(InvalidInput):
    """A datetime without tzinfo reached caselib.

    caselib never guesses a zone: pass ``datetime.now(timezone.utc)`` or attach the user's zone.
    """

    code = "naive_datetime"
    title = "Datetime without a time zone"

    def __init__(self, field: str = "datetime") -> None:
        super().__init__(
            f"{field} is a naive datetime; caselib needs timezone-aware datetimes "
            "(for example datetime(..., tzinfo=timezone.utc))",
            field=field,
        )


class UnknownValue(InvalidInput):
    """A value is not one of the allowed choices (status, priority, source, category …)."""

    code = "unknown_value"
    title = "Unknown value"
    problem_fields: ClassVar[tuple[str, ...]] = ("value", "allowed")

    def __init__(self, field: str, value: object, allowed: Iterable[str]) -> None:
        self.value = value
        self.allowed = tuple(allowed)
        shown = ", ".join(self.allowed[:30]) + (" …" if len(self.allowed) > 30 else "")
        super().__init__(f"unknown {field} {value!r}; expected one of: {shown}", field=field)


class TextTooLong(InvalidInput):
    """A text field is over its documented limit."""

    code = "text_too_long"
    title = "Text too long"
    problem_fields: ClassVar[tuple[str, ...]] = ("length", "limit")

    def __init__(self, field: str, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(
            f"{field} is {length} characters long; the limit is {limit}. "
            "Shorten it or attach the full text as evidence.",
            field=field,
        )


class InvalidConfiguration(InvalidInput):
    """A workflow, SLA policy, calendar or routing rule set cannot be built as given."""

    code = "invalid_configuration"
    title = "Invalid configuration"


class WrongType(InvalidInput, TypeError):
    """A value of the wrong type reached caselib: an int where a list of tags goes, ``None``
    as an actor, a dict as a case id. Nothing was changed.

    Checked where the value enters caselib, so it never surfaces as a bare ``TypeError`` or
    ``AttributeError`` from deep inside; it is a ``TypeError`` too, as Python code expects of
    a wrong type (and an :class:`InvalidInput`, so a web layer maps it with the rest of the
    bad input). ``field`` names the parameter, ``expected`` what to pass there and
    ``received`` the name of the type that came instead.
    """

    code = "wrong_type"
    http_status = 422

    def __init__(self, field: str, expected: str, value: object, hint: str = "") -> None:
        self.expected = expected
        self.received = type(value).__name__
        super().__init__(
            f"{field} must be {expected}, got {self.received}" + (f" ({hint})" if hint else ""),
            field=field,
        )


# --- refusals --------------------------------------------------------------------------------


class CommandRefused(CaselibError):
    """The command is well formed but the case's current state does not allow it."""

    code = "command_refused"
    http_status = 409
    title = "Command refused"


class TransitionNotAllowed(CommandRefused):
    """The workflow has no transition from the case's status to the requested one."""

    code = "transition_not_allowed"
    title = "Transition not allowed"
    problem_fields: ClassVar[tuple[str, ...]] = ("current", "requested", "allowed")

    def __init__(self, current: str, requested: str, allowed: Iterable[str]) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(allowed)
        targets = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"cannot move a case from {current!r} to {requested!r}; "
            f"allowed from {current!r}: {targets}"
        )


class GateRequired(CommandRefused):
    """A gate on the transition is not met: ``gate`` names it (``"assignee"``, ``"note"``).

    ``target`` is the status the case was to move to; ``what`` says what the gate wants, and
    the message says how to meet it.
    """

    code = "gate_required"
    title = "Transition gate not met"
    problem_fields: ClassVar[tuple[str, ...]] = ("gate", "requested")

    def __init__(self, target: str, gate: str, what: str, *, how: str) -> None:
        self.target = target
        self.gate = gate
        self.what = what
        super().__init__(f"moving a case to {target!r} requires {what}; {how}")

    @property
    def requested(self) -> str:
        """The status the case was to move to (named as in :class:`TransitionNotAllowed`)."""
        return self.target


class NoteRequired(GateRequired):
    """The transition's note gate wants a note (resolving and closing always do).

    ``parameter`` is the name of the note argument of the command that was called
    (``note`` for ``transition`` and ``close``, ``summary`` for ``resolve``, ``reason`` for
    ``reopen``), so the message says exactly what to pass.
    """

    code = "note_required"
    http_status = 422
    title = "Note required"
    problem_fields: ClassVar[tuple[str, ...]] = ("parameter",)

    def __init__(self, target: str, what: str = "a note", *, parameter: str = "note") -> None:
        self.parameter = parameter
        super().__init__(target, "note", what, how=f"pass {parameter}=...")


class ReopenWindowClosed(CommandRefused):
    """A customer may no longer reopen this case (closed, or resolved longer ago than the
    tenant's grace window); a reply through ``customer_reply`` opens a follow-up case.

    .. versionadded:: 0.3
    """

    code = "reopen_window_closed"
    title = "Reopen window closed"

    def __init__(self, number: str) -> None:
        super().__init__(f"case {number} can no longer be reopened by its customer; reply "
                         "with ServiceDesk.customer_reply and a linked follow-up case opens")


class CaseMerged(CommandRefused):
    """The case was merged into another (``survivor``, its number); act on the survivor, or
    unmerge first.

    .. versionadded:: 0.3
    """

    code = "case_merged"
    title = "Case merged"
    problem_fields: ClassVar[tuple[str, ...]] = ("survivor",)

    def __init__(self, number: str, survivor: str | None) -> None:
        self.survivor = survivor
        super().__init__(f"case {number} was merged into {survivor or 'another case'}; act on "
                         "that case, or unmerge it first (ServiceDesk.unmerge)")


class ChecklistIncomplete(GateRequired):
    """The case's checklist (from its template) has required items still open; ``items``
    names them, in checklist order, so the message says exactly what is left to do.

    .. versionadded:: 0.3
    """

    code = "checklist_incomplete"
    title = "Checklist incomplete"
    problem_fields: ClassVar[tuple[str, ...]] = ("gate", "requested", "items")

    def __init__(self, target: str, items: Iterable[str]) -> None:
        self.items = tuple(items)
        listed = ", ".join(repr(i) for i in self.items)
        super().__init__(target, "checklist", f"every required checklist item done (open: "
                         f"{listed})", how="check them (ServiceDesk.check_item) first")


class PermissionDenied(CommandRefused):
    """The actor may not perform this command.

    ``permission`` names the permission that is missing (``"service.resolve"``) and ``roles``
    the roles that grant it, so the message can say whom to ask.
    """

    code = "permission_denied"
    http_status = 403
    title = "Permission denied"
    problem_fields: ClassVar[tuple[str, ...]] = ("permission", "roles")

    def __init__(
        self,
        message: str | None = None,
        *,
        permission: str | None = None,
        roles: Iterable[str] = (),
    ) -> None:
        self.permission = permission
        self.roles = tuple(roles)
        parts = [message] if message else []
        if permission is not None:
            granted = (f"granted by the roles {', '.join(self.roles)}" if self.roles
                       else "granted by no role")
            parts.append(f"this needs the permission {permission!r} ({granted})")
        super().__init__("; ".join(parts) or "permission denied")


# --- storage ---------------------------------------------------------------------------------


class StorageError(CaselibError):
    """The store failed or refused a write; the unit of work was rolled back."""

    code = "storage_error"
    http_status = 500
    title = "Storage error"


class NotFound(StorageError, LookupError):
    """Nothing with that key exists in this tenant."""

    code = "not_found"
    http_status = 404
    title = "Not found"


class CaseNotFound(NotFound):
    """No case with this id (or number) in this tenant."""

    code = "case_not_found"
    title = "Case not found"
    problem_fields: ClassVar[tuple[str, ...]] = ("case_id", "tenant")

    def __init__(self, case_id: str, tenant: str | None = None) -> None:
        self.case_id = case_id
        self.tenant = tenant
        where = f" in tenant {tenant!r}" if tenant is not None else ""
        super().__init__(f"no case {case_id!r}{where}")


class ArticleNotFound(NotFound):
    """No knowledge-base article with this id in this tenant."""

    code = "article_not_found"
    title = "Article not found"
    problem_fields: ClassVar[tuple[str, ...]] = ("article_id", "tenant")

    def __init__(self, article_id: str, tenant: str | None = None) -> None:
        self.article_id = article_id
        self.tenant = tenant
        where = f" in tenant {tenant!r}" if tenant is not None else ""
        super().__init__(f"no article {article_id!r}{where}")


class ConcurrencyConflict(StorageError):
    """Someone saved the case after you loaded it.

    Reload the case and apply the command again; ``ServiceDesk.retrying`` does that for
    idempotent commands.
    """

    code = "concurrency_conflict"
    http_status = 409
    title = "Concurrent change"
    problem_fields: ClassVar[tuple[str, ...]] = ("case_id", "expected", "actual")

    def __init__(self, case_id: str, expected: int, actual: int | None) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {case_id!r} changed since it was loaded (expected version {expected}, "
            f"stored version {actual}); reload it and retry"
        )


class DuplicateKey(StorageError):
    """An id or case number that must be unique already exists."""

    code = "duplicate_key"
    http_status = 409
    title = "Duplicate key"


class SchemaMismatch(StorageError):
    """The database schema is newer than this caselib knows; upgrade caselib (nothing touched)."""

    code = "schema_mismatch"
    http_status = 500
    title = "Database schema mismatch"
