"""Removing personal data from case text before it becomes a knowledge-base article.

A resolved case is often the best first draft of an article, but its thread is full of the
customer: an e-mail signature, a phone number, the contact's and the company's names, order
numbers, values of the case's custom fields. :class:`Redactor` replaces each with a
placeholder (``[email]``, ``[phone]``, ``[name]``, ``[order]``, ``[value]``) so an editor
starts from text that can be published after a read.

It is a safety net, not a guarantee: patterns miss what they were not written for (a name
nobody passed in, an address in prose), so drafts stay unpublished until a person has read
them. Where a rule must choose, it over-redacts: a name part that is also an English word
("Will", "Mark") is replaced wherever it is capitalised, because a leaked name costs more
than an editor's fix.

Rules, in the order they run (earlier placeholders are never re-matched):

1. e-mail addresses, also written out (``ana at example dot com``, ``ana[at]example.com``);
2. order, invoice, ticket and tracking numbers after such a label (``order #A-1234``,
   ``Order no. 99812``, ``invoice: INV-2024-0042``), codes shaped like ``ABC-12345``, and
   ``#`` followed by 4+ digits; the label stays, the number goes;
3. the given literal values (custom-field values, link ids), whole words, case-sensitive,
   at least 3 characters (shorter ones, like ``"No"``, would hit ordinary words);
4. phone numbers: 7 to 15 digits with spaces, dots, dashes, slashes or brackets between,
   an optional leading ``+`` or ``00``; ISO dates, times, versions (``3.3.1``), IPv4
   addresses and amounts (``1,299.00``) are left alone;
5. the given names: a whole name in any case and accent (``Zoë Müller`` = ``zoe muller``),
   then each part of it (2+ letters) where it is capitalised, also before ``'s``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import attrs

from caselib.checks import require_strs
from caselib.kb.text import fold

__all__ = ["Redactor"]

EMAIL: Final = "[email]"
PHONE: Final = "[phone]"
NAME: Final = "[name]"
ORDER: Final = "[order]"
VALUE: Final = "[value]"

_AT = r"(?:@|\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+)"
_DOT = r"(?:\.|\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    rf"[A-Za-z0-9][\w.+-]*{_AT}[A-Za-z0-9][\w-]*(?:{_DOT}[A-Za-z0-9][\w-]*)*{_DOT}[A-Za-z]{{2,}}\b"
)
# A plain "ana at example dot com" needs both spelled-out words; "@" alone is enough otherwise.
_EMAIL_PLAIN_AT = re.compile(r"\s+at\s+", re.IGNORECASE)

_ORDER_LABELLED = re.compile(
    r"(?i)\b(order|invoice|ticket|tracking|reference|ref|booking|confirmation|rma)"
    r"(\s*(?:no\.?|nr\.?|number|num\.?|id|code)?\s*[:#]?\s*)"
    r"(?=[A-Z0-9-]*\d)([A-Z0-9][A-Z0-9-]{2,})",
)
_ORDER_CODE = re.compile(r"\b[A-Z]{2,5}-\d[\d-]{3,}\b")
_HASH_NUMBER = re.compile(r"#\d{4,}\b")

_PHONE = re.compile(r"(?<![\w.:/-])(?:\+|00)?\(?\d[\d\s().\-/]{5,}\d(?![\w.:/-]*\d)")
_NOT_PHONE = (
    re.compile(r"^\d{4}-\d{2}-\d{2}$"),  # ISO date
    re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}$"),  # 05.03.2024, 3/5/24
    re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$"),  # IPv4
    re.compile(r"^\d+(?:\.\d+){1,2}$"),  # versions, decimals
)


def _is_phone(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15:
        return False
    bare = candidate.strip()
    return not any(p.match(bare) for p in _NOT_PHONE)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    trail = len(text) - len(text.rstrip())
    return PHONE + text[len(text) - trail :] if _is_phone(text) else text


def _words(values: Iterable[str]) -> list[str]:
    out = {v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= 3}
    return sorted(out, key=lambda v: (-len(v), v))  # longest first: "Acme Ltd" before "Acme"


def _strings(value: object, field: str) -> tuple[str, ...]:
    return tuple(str(v) for v in require_strs(value, field))


def _names(value: object) -> tuple[str, ...]:
    return _strings(value, "names")


def _values(value: object) -> tuple[str, ...]:
    return _strings(value, "values")


@attrs.frozen
class Redactor:
    """Replace personal data in text with placeholders (see the module docstring's rules).

    Args:
        names: people's and organisations' names to remove (the contact, the account);
            caselib stores only ids, so the host passes the names it knows.
        values: literal values to remove (custom-field values, link ids).

    >>> r = Redactor(names=("Zoë Müller", "Acme Ltd"), values=("gold-plan",))
    >>> print(r.redact("Zoe at ACME LTD (zoe.m@acme.example, +44 20 7946 0958): "
    ...                "order #A-99812 on gold-plan. Zoë's boss agreed."))
    [name] at [name] ([email], [phone]): order #[order] on [value]. [name]'s boss agreed.
    """

    names: tuple[str, ...] = attrs.field(default=(), converter=_names)
    values: tuple[str, ...] = attrs.field(default=(), converter=_values)

    def redact(self, text: str) -> str:
        """``text`` with every rule applied."""
        text = _EMAIL.sub(_email, text)
        text = _ORDER_LABELLED.sub(lambda m: m.group(1) + m.group(2) + ORDER, text)
        text = _ORDER_CODE.sub(ORDER, text)
        text = _HASH_NUMBER.sub("#" + ORDER, text)
        for value in _words(str(v) for v in self.values):
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", VALUE, text)
        text = _PHONE.sub(_phone, text)
        return self._names(text)

    def _names(self, text: str) -> str:
        names = _words(self.names)
        if not names:
            return text
        # Whole names, any case and accent: compare on folded text, cut the original.
        folded = fold(text)
        if len(folded) == len(text):  # folding kept offsets (true unless ligatures expand)
            spans: list[tuple[int, int]] = []
            for name in names:
                pattern = re.compile(rf"(?<!\w){re.escape(fold(name))}(?!\w)")
                spans.extend(m.span() for m in pattern.finditer(folded))
            text = _cut(text, spans)
        else:
            for name in names:
                text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", NAME, text, flags=re.I)
        # Then each part, where capitalised (also in its unaccented spelling).
        parts = {p for name in names for p in re.findall(r"[^\W\d_]{2,}", name)}
        for part in sorted(parts, key=lambda p: (-len(p), p)):
            for spelling in {part, _strip_accents(part)}:
                cap = spelling[:1].upper() + spelling[1:]
                for form in {cap, spelling.upper()}:
                    text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", NAME, text)
        return text


def _strip_accents(word: str) -> str:
    folded = fold(word)
    return folded if len(folded) == len(word) else word


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(NAME)
        last = end
    out.append(text[last:])
    return "".join(out)


def _email(match: re.Match[str]) -> str:
    text = match.group(0)
    bracketed = "@" in text or re.search(r"[\[(]\s*at\s*[\])]", text, re.I)
    # "ana at example dot com" counts only with both words spelled out ("meet at noon.If" not)
    spelled = _EMAIL_PLAIN_AT.search(text) and re.search(r"\s+dot\s+", text, re.I)
    return EMAIL if bracketed or spelled else text
