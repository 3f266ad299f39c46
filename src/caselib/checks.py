"""The checks every layer's boundary shares: a value's type, and text every store can hold.

Ground floor, beside :mod:`caselib.errors`, because the values of the domain
(:mod:`caselib.cases`, :mod:`caselib.kb`), the query values of :mod:`caselib.ports` and the
desk's parameter checks (:mod:`caselib.desk._inputs`) all refuse the same things the same way:

- a value of the wrong type raises :class:`~caselib.errors.WrongType` (``bool`` is not taken
  for an ``int``, nor a ``str`` for a list of strings);
- text a store cannot hold raises :class:`~caselib.errors.InvalidInput`, whatever the store: a
  lone surrogate (``"ab\\ud800cd"``: UTF-8 cannot encode it, so the SQLite and PostgreSQL
  drivers raise ``UnicodeEncodeError``, while the memory store would keep it) and NUL
  (PostgreSQL text cannot hold it). The domain decides once, so every store agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

from caselib.errors import InvalidInput, WrongType

__all__ = [
    "MAX_INT",
    "bool_attribute",
    "instance_attribute",
    "port_attribute",
    "require_bool",
    "require_instances",
    "require_int",
    "require_items",
    "require_mapping",
    "require_port",
    "require_str",
    "require_strs",
    "storable",
    "str_set",
    "unstorable",
]

_T = TypeVar("_T")

MAX_INT: Final = 2**63 - 1
"""The largest integer every store can hold (SQLite and PostgreSQL ``BIGINT``)."""

def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored (``"a NUL character"``, ``"a lone surrogate"``), or
    ``None`` when every store can hold it."""
    # Both tests run in C at memory speed (a regex scan costs ~15x more on a long comment):
    # only non-ASCII text can hold a surrogate, and only a surrogate fails to encode.
    if "\x00" in text:
        return "a NUL character"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not valid UTF-8)"
    return None


def storable(text: str, field: str) -> str:
    """``text`` if every store can hold it, else :class:`InvalidInput` naming ``field``."""
    why = unstorable(text)
    if why is not None:
        raise InvalidInput(
            f"{field} contains {why}; no store can keep it: remove it "
            "(text from a decoder may need errors='replace')",
            field=field,
        )
    return text


def require_str(value: object, field: str, expected: str = "a string") -> str:
    """``value`` if it is a ``str`` that every store can hold."""
    if not isinstance(value, str):
        raise WrongType(field, expected, value)
    return storable(value, field)


def require_bool(value: object, field: str) -> bool:
    """``value`` if it is ``True`` or ``False``: ``"no"``, ``0`` and ``None`` are not guessed."""
    if not isinstance(value, bool):
        raise WrongType(field, "True or False", value)
    return value


def bool_attribute(_instance: object, attribute: Any, value: object) -> None:
    """An ``attrs`` validator for a setting that is ``True`` or ``False``: a wrong type is
    :class:`~caselib.errors.WrongType` naming the setting (``attrs``' own ``instance_of``
    raised a bare ``TypeError`` carrying the attribute's internals)."""
    require_bool(value, attribute.name)


def require_int(value: object, field: str, lo: int = -MAX_INT, hi: int = MAX_INT) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) from ``lo`` to ``hi``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType(field, "an integer", value)
    if not lo <= value <= hi:
        span = f"at least {lo}" if hi == MAX_INT else f"from {lo} to {hi}"
        raise InvalidInput(f"{field} must be {span}, got {value}", field=field)
    return value


def require_mapping(value: object, field: str) -> Mapping[Any, Any]:
    """``value`` if it is a mapping (a ``dict`` …)."""
    if not isinstance(value, Mapping):
        raise WrongType(field, "a mapping (a dict)", value)
    return value


def require_strs(value: object, field: str) -> Iterable[object]:
    """``value`` if it is a collection to read strings from: a list, tuple, set …, not one
    string (it would be read letter by letter), bytes or a mapping. The items are the
    caller's to check."""
    return require_items(value, field, "a list of strings")


def require_items(value: object, field: str, expected: str = "a list") -> tuple[Any, ...]:
    """The items of ``value`` if it is a collection (a list, tuple, set, generator …): not one
    string (it would be read letter by letter), bytes, a mapping (its keys would be read) or
    a single value. The items are the caller's to check; ``expected`` says what to pass."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise WrongType(field, expected, value)
    return tuple(value)


def require_instances(value: object, field: str, kind: type[_T] | tuple[type[_T], ...],
                      expected: str) -> tuple[_T, ...]:
    """The items of the collection ``value`` if each is a ``kind``: the one check behind the
    settings that hold a list of rules, templates, conditions … (a stray item would fail
    later, deep inside, as a bare ``AttributeError``)."""
    items = require_items(value, field, expected)
    for item in items:
        if not isinstance(item, kind):
            raise WrongType(field, expected, item, hint="one of the items")
    return items


def instance_attribute(kind: type[Any] | tuple[type[Any], ...], expected: str) -> Any:
    """An ``attrs`` validator for a setting that holds one ``kind`` value (a template, a
    policy …; ``(Router, type(None))`` for one that may be ``None``): a wrong type is
    :class:`~caselib.errors.WrongType` naming the setting."""

    def check(_instance: object, attribute: Any, value: object) -> None:
        if not isinstance(value, kind):
            raise WrongType(attribute.name, expected, value)

    return check


def require_port(value: object, field: str, methods: tuple[str, ...], expected: str) -> Any:
    """``value`` if it has each of ``methods`` and they are callable: the structural check of
    a host port (a mailer, a blob store …), whose ``Protocol`` is not ``runtime_checkable``.
    With no ``methods``, ``value`` itself must be callable (a setting that is a function).
    A wrong value would otherwise be kept and fail at its first use, long after the setting
    was made, as a bare ``AttributeError`` or ``TypeError``."""
    if not (all(callable(getattr(value, name, None)) for name in methods) if methods
            else callable(value)):
        raise WrongType(field, expected, value)
    return value


def port_attribute(expected: str, *methods: str, optional: bool = False) -> Any:
    """An ``attrs`` validator for a setting that holds a host port with ``methods`` (or, with
    none, a function): see :func:`require_port`. ``optional``: ``None`` is taken too (the
    channel is off)."""

    def check(_instance: object, attribute: Any, value: object) -> None:
        if value is not None or not optional:
            require_port(value, attribute.name, methods, expected)

    return check


def str_set(value: object, field: str) -> frozenset[str]:
    """A setting that is a set of names (teams, ids, gates …): a collection of strings
    becomes a ``frozenset``; one string, a number or ``None`` is
    :class:`~caselib.errors.WrongType` naming ``field``. Each class wraps it in a named
    one-line converter (``def _teams(value): return str_set(value, "teams")``): mypy's attrs
    plugin takes no converter built by a factory or ``attrs.Converter``."""
    return frozenset(require_instances(value, field, str,
                                       "a collection of strings (a list, set …)"))
