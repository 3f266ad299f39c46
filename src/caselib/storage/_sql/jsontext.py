"""JSON text as both stores keep it in their document columns: :func:`dumps` and
:func:`loads`, built once, with the optional ``orjson`` where it gives the same values.

Its own module because every row codec and repository encodes through it, and its
equivalence with the stdlib is tested on its own.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any, Final

__all__ = [
    "dumps",
    "loads",
]


def _make_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, built once.

    ``json.dumps`` with options builds a ``JSONEncoder`` and then a C encoder on every call;
    a case write encodes about eight documents, so both are built once here. The C encoder
    (stateless without circular-reference markers) is reused when the interpreter has it.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - interpreters without the C accelerator
        return encoder.encode
    c_encode = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",",
                    False, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(c_encode(value, 0))

    if encode({"a": [1, None, "é\u0000"]}) != encoder.encode({"a": [1, None, "é\u0000"]}):
        return encoder.encode  # pragma: no cover - a C encoder with another signature
    return encode


def _make_fast_encoder(fallback: Callable[[Any], str]) -> Callable[[Any], str]:
    """With the optional ``orjson`` (extra ``caselib-engine[speed]``): equivalent JSON, ~8x
    faster to make, which bulk imports and sweeps feel (a case write encodes several
    documents). The text parses to the same values; only float spelling may differ
    (``1e-6`` for ``1e-06``), and nothing compares stored JSON as text. Falls back to the
    stdlib encoder for anything orjson refuses (non-string keys, integers beyond 64 bits)
    and when orjson is absent or disagrees on the probe below."""
    try:
        import orjson
    except ImportError:
        return fallback
    orjson_dumps = orjson.dumps
    refused = (TypeError, orjson.JSONEncodeError)

    def encode(value: Any) -> str:
        try:
            return orjson_dumps(value).decode()
        except refused:
            return fallback(value)

    probe = {"a": [1, None, 0.1, 1e16, -2.5, True, "é\u0000\n\"\\\u2028\ud7ff"], "b": {}}
    return encode if encode(probe) == fallback(probe) else fallback


_encode: Final = _make_fast_encoder(_make_encoder())


def _make_fast_decoder() -> Callable[[str | bytes | bytearray], Any]:
    """``json.loads``, or with the optional ``orjson`` its parser (3-4x faster on case
    documents, which the sweep and every command read) where it reads the same values.

    orjson refuses ``NaN`` and reads an integer beyond 64 bits as a float, losing digits; the
    stdlib fallback encoder can write both. Text orjson refuses, and text with a run of 19 or
    more digits (every such integer has one; a false alarm only costs speed), is read by
    ``json.loads``.
    """
    try:
        import orjson
    except ImportError:
        return json.loads
    orjson_loads = orjson.loads
    refused = orjson.JSONDecodeError
    # digits -> "9", every other byte -> "x": a 19-digit run becomes a 19-nine run, found by
    # a substring search (several times cheaper than a regular expression over the text)
    digits = bytes(0x39 if 0x30 <= i <= 0x39 else 0x78 for i in range(256))
    run = b"9" * 19

    def decode(text: str | bytes | bytearray) -> Any:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if run in raw.translate(digits):
            return json.loads(text)
        try:
            return orjson_loads(text)
        except refused:
            return json.loads(text)

    return decode


_decode: Final = _make_fast_decoder()


def dumps(value: Any) -> str:
    """Compact JSON text (what both stores keep in their document columns)."""
    return _encode(value)


def loads(value: Any) -> Any:
    """Parse a JSON column: text from SQLite, text or already-decoded data from psycopg."""
    if isinstance(value, (str, bytes, bytearray)):
        return _decode(value)
    return value
