"""The caselib error tree.

Every error caselib raises on purpose derives from :class:`CaselibError`, so a host can catch
one class at its web boundary and map the branches to HTTP statuses::

    CaselibError
    ├── InvalidInput (also ValueError)       → 400/422: fix the request and send it again
    │   ├── NaiveDatetime                      a datetime without tzinfo
    │   ├── UnknownValue                       a status/priority/source/category… not allowed
    │   ├── TextTooLong                        a field over its documented limit
    │   ├── InvalidConfiguration               a workflow, policy, calendar or rule set is broken
    │   └── WrongType (also TypeError)         → 422: an int where a list of tags goes, None as
    │                                            an actor, a dict as a case id …
    ├── CommandRefused                         → 409/422: the case is not in a state that allows it
    │   ├── TransitionNotAllowed                  names the current status and the allowed targets
    │   ├── NoteRequired                          the transition's gate wants a note
    │   └── PermissionDenied                   → 403
    └── StorageError                           → 500 unless a subclass says otherwise
        ├── NotFound (also LookupError)        → 404
        │   ├── CaseNotFound
        │   └── ArticleNotFound
        ├── ConcurrencyConflict                → 409: reload and retry (see ServiceDesk.retrying)
        ├── DuplicateKey                          an id or case number that already exists
        └── SchemaMismatch                        the database was written by a newer caselib

Refusals and bad input are raised *before* anything is written: a command that raises leaves the
store exactly as it was. Adapters translate driver errors into :class:`StorageError` subclasses
with ``raise … from err`` so the driver's traceback stays attached.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ArticleNotFound",
    "CaseNotFound",
    "CaselibError",
    "CommandRefused",
    "ConcurrencyConflict",
    "DuplicateKey",
    "InvalidConfiguration",
    "InvalidInput",
    "NaiveDatetime",
    "NotFound",
    "NoteRequired",
    "PermissionDenied",
    "SchemaMismatch",
    "StorageError",
    "TextTooLong",
    "TransitionNotAllowed",
    "UnknownValue",
    "WrongType",
]


class CaselibError(Exception):
    """Root of every error caselib raises on purpose."""


# --- bad input -------------------------------------------------------------------------------


class InvalidInput(CaselibError, ValueError):
    """A value handed to caselib is malformed; nothing was changed.

    ``field`` names the offending input when there is one, so form layers can attach the
    message to the right widget.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NaiveDatetime(InvalidInput):
    """A datetime without tzinfo reached caselib.

    caselib never guesses a zone: pass ``datetime.now(timezone.utc)`` or attach the user's zone.
    """

    def __init__(self, field: str = "datetime") -> None:
        super().__init__(
            f"{field} is a naive datetime; caselib needs timezone-aware datetimes "
            "(for example datetime(..., tzinfo=timezone.utc))",
            field=field,
        )


class UnknownValue(InvalidInput):
    """A value is not one of the allowed choices (status, priority, source, category …)."""

    def __init__(self, field: str, value: object, allowed: Iterable[str]) -> None:
        self.value = value
        self.allowed = tuple(allowed)
        shown = ", ".join(self.allowed[:30]) + (" …" if len(self.allowed) > 30 else "")
        super().__init__(f"unknown {field} {value!r}; expected one of: {shown}", field=field)


class TextTooLong(InvalidInput):
    """A text field is over its documented limit."""

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


class TransitionNotAllowed(CommandRefused):
    """The workflow has no transition from the case's status to the requested one."""

    def __init__(self, current: str, requested: str, allowed: Iterable[str]) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(allowed)
        targets = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"cannot move a case from {current!r} to {requested!r}; "
            f"allowed from {current!r}: {targets}"
        )


class NoteRequired(CommandRefused):
    """The transition is gated on a note (resolving and closing always are)."""

    def __init__(self, target: str, what: str = "a note") -> None:
        self.target = target
        super().__init__(f"moving a case to {target!r} requires {what}; pass note=...")


class PermissionDenied(CommandRefused):
    """The actor may not perform this command."""


# --- storage ---------------------------------------------------------------------------------


class StorageError(CaselibError):
    """The store failed or refused a write; the unit of work was rolled back."""


class NotFound(StorageError, LookupError):
    """Nothing with that key exists in this tenant."""


class CaseNotFound(NotFound):
    """No case with this id (or number) in this tenant."""

    def __init__(self, case_id: str, tenant: str | None = None) -> None:
        self.case_id = case_id
        self.tenant = tenant
        where = f" in tenant {tenant!r}" if tenant is not None else ""
        super().__init__(f"no case {case_id!r}{where}")


class ArticleNotFound(NotFound):
    """No knowledge-base article with this id in this tenant."""

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


class SchemaMismatch(StorageError):
    """The database schema is newer than this caselib knows; upgrade caselib (nothing touched)."""
