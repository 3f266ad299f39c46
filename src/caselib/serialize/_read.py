"""Writing and reading the scalars of a document, and :class:`Doc`, a JSON object being read.

Every check names the field it refused with its path in the document (``timeline[3].at``,
``links.account``), so a host can point at the offending part of what it received. Text that
a store cannot hold (NUL, a lone surrogate) is refused here too: a document read by
:func:`~caselib.serialize.from_dict` can always be saved.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TypeVar

from caselib.errors import InvalidInput, NaiveDatetime, TextTooLong, UnknownValue
from caselib.timeutil import to_iso

__all__ = [
    "Doc",
    "date_text",
    "duration_text",
    "inside",
    "instant_text",
    "jsonable",
    "parse_duration_text",
]

E = TypeVar("E", bound=enum.Enum)

SHORT: Final = 200
"""Longest id-like text (ids, names, codes), as the case model allows."""

_MISSING: Any = object()


# --- writing ---------------------------------------------------------------------------------


def instant_text(value: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset and microseconds (``2026-03-02T09:00:00.000000+00:00``):
    fixed width, so the text sorts like the instant."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime("datetime")
    return to_iso(value)


def date_text(value: date) -> str:
    """``YYYY-MM-DD``."""
    return value.isoformat()


def duration_text(value: timedelta | None) -> str | None:
    """ISO 8601 duration in hours, minutes and seconds only (``PT8H``, ``PT1H30M``,
    ``PT0.5S``, ``-PT15M``): exact elapsed or business time, never calendar days, whose
    length a reader could take for 23 or 25 hours across a DST change."""
    if value is None:
        return None
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, micro = divmod(abs(micros), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs or micro or not (hours or minutes):
        text += f"{secs}.{micro:06d}".rstrip("0").rstrip(".") + "S"
    return text


_DURATION = re.compile(r"^(-)?PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,6}))?S)?$")


def parse_duration_text(text: str, field: str) -> timedelta:
    """Inverse of :func:`duration_text`."""
    match = _DURATION.match(text)
    if match is None or text.endswith("T"):
        raise InvalidInput(f"{field} must be an ISO 8601 duration in hours, minutes and "
                           f"seconds such as 'PT8H' or 'PT1H30M', got {text[:40]!r}", field=field)
    sign, hours, minutes, secs, frac = match.groups()
    value = timedelta(hours=int(hours or 0), minutes=int(minutes or 0), seconds=int(secs or 0),
                      microseconds=int((frac or "0").ljust(6, "0")))
    return -value if sign else value


def jsonable(value: object, field: str = "value") -> Any:
    """Plain data (already made of JSON values, such as a timeline entry's ``data``) as
    JSON-native types: tuples become lists, enums their values, datetimes ISO text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{field} holds {value!r}, which JSON cannot carry", field=field)
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{field}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v, field) for v in value)
    raise InvalidInput(f"{field} holds a {type(value).__name__}, which has no JSON form",
                       field=field)


# --- reading ---------------------------------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _plain_text(value: object, limit: int, empty: bool) -> bool:
    """The fast yes of :func:`check_text`: short ASCII text without NUL (most ids and
    names), checked without naming a field."""
    return (type(value) is str and len(value) <= limit and value.isascii()
            and "\x00" not in value and (empty or (not value.isspace() and value != "")))


def check_text(value: object, field: str, *, limit: int = SHORT, empty: bool = False) -> str:
    """``value`` as text a store can hold: no NUL, no lone surrogate, within ``limit``."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise InvalidInput(f"{field} must be text, got {_kind(value)}", field=field)
        value = str.__str__(value)
    if not empty and not value.strip():
        raise InvalidInput(f"{field} must not be empty", field=field)
    if "\x00" in value:
        raise InvalidInput(f"{field} contains a NUL character", field=field)
    if not value.isascii():  # only non-ASCII text can hold a lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{field} contains a lone surrogate (not valid Unicode text)",
                               field=field) from None
    if len(value) > limit:
        raise TextTooLong(field, len(value), limit)
    return value


def check_json(value: object, field: str, depth: int = 0) -> Any:
    """``value`` if it is JSON-native data (objects with text keys, lists, finite numbers)."""
    if depth > 32:
        raise InvalidInput(f"{field} is nested deeper than 32 levels", field=field)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{field} must be a finite number", field=field)
        return value
    if isinstance(value, str):
        return check_text(value, field, limit=1_000_000, empty=True)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = check_text(k, f"{field} key", limit=SHORT, empty=True)
            out[key] = check_json(v, f"{field}.{key}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [check_json(v, f"{field}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise InvalidInput(f"{field} must be JSON data, got {_kind(value)}", field=field)


@contextmanager
def inside(path: str) -> Iterator[None]:
    """Errors from building a value at ``path`` name their field below it
    (``size`` → ``attachments[0].size``), keeping their class."""
    try:
        yield
    except InvalidInput as err:
        named = err.field is not None and (err.field == path or err.field.startswith(
            (f"{path}.", f"{path}[")))
        if path and not named:  # a reader's own check already gave the whole path
            err.field = f"{path}.{err.field}" if err.field else path
            if err.args:
                err.args = (f"{path}: {err.args[0]}", *err.args[1:])
        raise


class Doc:
    """A JSON object being read. Each accessor reads one key, checks its type and names the
    key's path when it refuses; :meth:`finish` refuses keys nobody read (a misspelt filter
    must not silently widen a query)."""

    __slots__ = ("_data", "_path", "_seen")

    def __init__(self, data: object, path: str = "") -> None:
        if not isinstance(data, Mapping):
            where = path or "the document"
            raise InvalidInput(f"{where} must be a JSON object, got {_kind(data)}",
                               field=path or "document")
        self._data: Mapping[Any, Any] = data
        self._path = path
        self._seen: set[str] = set()

    @property
    def path(self) -> str:
        """Where this object sits in the document (``""`` at the top)."""
        return self._path

    def name(self, key: str) -> str:
        """The path of ``key``."""
        return f"{self._path}.{key}" if self._path else key

    def key_names(self) -> list[str]:
        """The object's keys (for a map whose keys are data, such as item ids); a key that
        is not text is refused."""
        for key in self._data:
            if not isinstance(key, str):
                raise InvalidInput(f"{self._path or 'the document'} has a key that is not "
                                   f"text: {key!r}", field=self._path or "document")
        return list(self._data)

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value at ``key`` unchecked; a missing key without a default is refused."""
        self._seen.add(key)
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise InvalidInput(f"{self.name(key)} is missing", field=self.name(key))
        return default

    def text(self, key: str, *, limit: int = SHORT, empty: bool = False,
             default: Any = _MISSING) -> str:
        value = self.raw(key, default)
        if _plain_text(value, limit, empty):
            return value  # type: ignore[no-any-return]
        return check_text(value, self.name(key), limit=limit, empty=empty)

    def opt_text(self, key: str, *, limit: int = SHORT, empty: bool = False) -> str | None:
        value = self.raw(key, None)
        if value is None or _plain_text(value, limit, empty):
            return value  # type: ignore[no-any-return]
        return check_text(value, self.name(key), limit=limit, empty=empty)

    def integer(self, key: str, *, minimum: int | None = None, default: Any = _MISSING) -> int:
        value = self.raw(key, default)
        field = self.name(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{field} must be a whole number, got {_kind(value)}", field=field)
        if abs(value) > 2**53:
            raise InvalidInput(f"{field} is outside ±2**53 (not JSON-safe)", field=field)
        if minimum is not None and value < minimum:
            raise InvalidInput(f"{field} must be at least {minimum}, got {value}", field=field)
        return int(value)

    def opt_int(self, key: str, *, minimum: int | None = None) -> int | None:
        return None if self.raw(key, None) is None else self.integer(key, minimum=minimum)

    def opt_number(self, key: str) -> float | None:
        value = self.raw(key, None)
        field = self.name(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{field} must be a number, got {_kind(value)}", field=field)
        if not math.isfinite(value):
            raise InvalidInput(f"{field} must be a finite number", field=field)
        return float(value)

    def boolean(self, key: str, *, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise InvalidInput(f"{self.name(key)} must be true or false, got {_kind(value)}",
                               field=self.name(key))
        return value

    def opt_boolean(self, key: str) -> bool | None:
        return None if self.raw(key, None) is None else self.boolean(key)

    def instant(self, key: str) -> datetime:
        return _instant(self.raw(key), self.name(key))

    def opt_instant(self, key: str) -> datetime | None:
        value = self.raw(key, None)
        return None if value is None else _instant(value, self.name(key))

    def opt_duration(self, key: str) -> timedelta | None:
        value = self.raw(key, None)
        if value is None:
            return None
        return parse_duration_text(check_text(value, self.name(key)), self.name(key))

    def member(self, key: str, enum_cls: type[E], *, default: Any = _MISSING) -> E:
        return member(self.raw(key, default), enum_cls, self.name(key))

    def opt_member(self, key: str, enum_cls: type[E]) -> E | None:
        value = self.raw(key, None)
        return None if value is None else member(value, enum_cls, self.name(key))

    def texts(self, key: str, *, default: Any = _MISSING) -> list[str]:
        """A list of (non-empty) text items."""
        return [check_text(v, f"{self.name(key)}[{i}]")
                for i, v in enumerate(self.items(key, default=default))]

    def opt_texts(self, key: str) -> list[str] | None:
        return None if self.raw(key, None) is None else self.texts(key)

    def items(self, key: str, *, default: Any = _MISSING) -> list[Any]:
        value = self.raw(key, default)
        if not isinstance(value, (list, tuple)):
            raise InvalidInput(f"{self.name(key)} must be a list, got {_kind(value)}",
                               field=self.name(key))
        return list(value)

    def doc(self, key: str) -> Doc:
        return Doc(self.raw(key), self.name(key))

    def opt_doc(self, key: str) -> Doc | None:
        value = self.raw(key, None)
        return None if value is None else Doc(value, self.name(key))

    def docs(self, key: str, *, default: Any = _MISSING) -> list[Doc]:
        """A list of objects, each read as a :class:`Doc` at ``key[i]``."""
        name = self.name(key)
        return [Doc(v, f"{name}[{i}]") for i, v in enumerate(self.items(key, default=default))]

    def finish(self) -> None:
        """Refuse the keys no accessor read."""
        for key in self._data:
            if key not in self._seen:
                shown = key if isinstance(key, str) else repr(key)
                raise InvalidInput(
                    f"{self.name(shown)} is not a key of this document; expected: "
                    f"{', '.join(sorted(self._seen))}", field=self.name(shown))


def _instant(value: object, field: str) -> datetime:
    if type(value) is str and len(value) <= 40:  # fast path: what instant_text writes
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC:
                return parsed
    text = check_text(value, field)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO 8601 date and time with an offset, got "
                           f"{text[:40]!r}", field=field) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise NaiveDatetime(field)
    return parsed.astimezone(UTC)


def member(value: object, enum_cls: type[E], field: str) -> E:
    """The member of ``enum_cls`` whose value is ``value`` (its aliases too, where it has
    a ``parse``); :class:`UnknownValue` naming ``field`` otherwise."""
    if isinstance(value, str):
        exact = enum_cls._value2member_map_.get(value)  # the common case: a written value
        if exact is not None:
            return exact  # type: ignore[return-value]
        parse = getattr(enum_cls, "parse", None)
        try:
            found: E = parse(value) if parse is not None else enum_cls(value)
        except (InvalidInput, ValueError):
            pass
        else:
            return found
    raise UnknownValue(field, value, [str(m.value) for m in enum_cls])
