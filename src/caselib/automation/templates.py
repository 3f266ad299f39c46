"""Message templates for automation e-mails and notices: :class:`Template`, the placeholder
names a template may use, and the two render contexts.

Why not ``str.format`` or Jinja: a tenant writes these templates, and ``str.format`` walks
attributes (``{case.__class__}``) while a full template language is code. A template here is
plain text with ``{{ name }}`` placeholders from a fixed list, substituted in one pass: a
value that itself contains ``{{ … }}`` is never rendered again, and a name not on the list
is refused when the rule is loaded, not when the mail goes out.

The *customer* context (what a contact-facing e-mail may show) is built from the case's
public side only: no internal note, owner or team can reach it, whatever the template says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import attrs

from caselib.errors import InvalidConfiguration

__all__ = [
    "CUSTOMER_PLACEHOLDERS",
    "INTERNAL_PLACEHOLDERS",
    "Template",
]

CUSTOMER_PLACEHOLDERS: Final[frozenset[str]] = frozenset({
    "case.number", "case.subject", "case.status", "case.priority", "case.category",
    "case.created_at", "case.last_reply", "rule.name",
})
"""What a customer-facing template may name: the case's public side only."""

INTERNAL_PLACEHOLDERS: Final[frozenset[str]] = CUSTOMER_PLACEHOLDERS | frozenset({
    "case.id", "case.assignee", "case.team", "case.contact", "case.account",
    "case.status_category", "case.due_at", "case.last_note", "event.target",
})
"""What an internal template (agents, managers, webhooks) may name. ``event.target`` is the
SLA target (``first_response``, ``next_reply``, ``resolution``) of the ``case.sla_breached``
event a rule fires on (empty for other triggers), so two breaches of one case read apart."""

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_MAX_TEXT: Final = 20_000


@attrs.frozen
class Template:
    """A subject and body with ``{{ case.number }}``-style placeholders.

    ``audience`` is ``"customer"`` (only :data:`CUSTOMER_PLACEHOLDERS`; rendered from the
    public context) or ``"internal"``.
    """

    subject: str
    body: str
    audience: str = "customer"

    def __attrs_post_init__(self) -> None:
        if self.audience not in ("customer", "internal"):
            raise InvalidConfiguration(
                f"unknown template audience {self.audience!r}; expected one of: customer, "
                "internal")
        allowed = CUSTOMER_PLACEHOLDERS if self.audience == "customer" else INTERNAL_PLACEHOLDERS
        for part, text in (("subject", self.subject), ("body", self.body)):
            if not isinstance(text, str) or (part == "subject" and not text.strip()):
                raise InvalidConfiguration(f"template {part} must be text"
                                           + (" (not empty)" if part == "subject" else ""))
            if len(text) > _MAX_TEXT:
                raise InvalidConfiguration(f"template {part} is over {_MAX_TEXT} characters")
            for name in _PLACEHOLDER.findall(text):
                if name not in allowed:
                    raise InvalidConfiguration(
                        f"template {part} names {{{{ {name} }}}}, which a {self.audience} "
                        f"template cannot use; expected one of: {', '.join(sorted(allowed))}")

    def render(self, context: Mapping[str, str]) -> tuple[str, str]:
        """``(subject, body)`` with every placeholder replaced by its context value (missing:
        empty). One pass: values are inserted as they are, never rendered again."""
        def sub(match: re.Match[str]) -> str:
            return context.get(match.group(1), "")
        subject = _PLACEHOLDER.sub(sub, self.subject).replace("\r", " ").replace("\n", " ")
        return subject, _PLACEHOLDER.sub(sub, self.body)

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"subject": self.subject, "body": self.body, "audience": self.audience}

    @classmethod
    def from_dict(cls, raw: object) -> Template:
        """Inverse of :meth:`to_dict` (``audience`` defaults to customer)."""
        if not isinstance(raw, Mapping):
            raise InvalidConfiguration(f"a template must be an object, got {raw!r}")
        unknown = set(raw) - {"subject", "body", "audience"}
        if unknown:
            raise InvalidConfiguration(
                f"unknown template key {sorted(unknown)[0]!r}; expected one of: audience, "
                "body, subject")
        return cls(raw.get("subject", ""), raw.get("body", ""),
                   raw.get("audience", "customer"))
