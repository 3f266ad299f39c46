"""The descriptive fields of a case, validated once and spelled the tenant's way.

:meth:`CaseFields.parse` is the one place that turns what a form, an e-mail or an API sent
(``" billing "``, ``"High"``, ``"damage"``, ``{"account": "acme"}``) into what a case stores
(``"Billing"``, ``Priority.HIGH``, ``"damaged"``, :class:`~caselib.cases.Links`).
:meth:`Case.open <caselib.cases.Case.open>` stores its result, and the desk's routing preview
routes on it, so a preview can never route a spelling differently from the case it previews
(the routing check found ``" billing "`` previewed to *support* and created in *finance*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from caselib.cases.values import (
    CasePolicy,
    CustomValue,
    Links,
    _tags,
    validate_custom_fields,
)
from caselib.errors import InvalidInput
from caselib.vocab import Priority, Severity, Source

__all__ = ["CaseFields"]


@attrs.frozen
class CaseFields:
    """A new case's descriptive fields after validation, in their canonical spelling.

    Attribute names are the :class:`~caselib.cases.Case` attribute names, so code that reads
    these fields (routing facts, for one) takes either.
    """

    priority: Priority
    source: Source = Source.OTHER
    severity: Severity | None = None
    case_type: str | None = None
    category: str | None = None
    subcategory: str | None = None
    reason_code: str | None = None
    links: Links = Links()
    tags: frozenset[str] = frozenset()
    custom: Mapping[str, CustomValue] = attrs.field(factory=dict, hash=False)

    @classmethod
    def parse(
        cls,
        policy: CasePolicy = CasePolicy(),
        *,
        priority: Priority | str | None = None,
        severity: Severity | str | None = None,
        case_type: str | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        reason_code: str | None = None,
        source: Source | str = Source.OTHER,
        links: Links | Mapping[str, str | None] | None = None,
        tags: Iterable[str] = (),
        custom: Mapping[str, object] | None = None,
    ) -> CaseFields:
        """Validate and canonicalise, with ``policy``'s vocabulary and default priority.

        Raises:
            InvalidInput: (or :class:`~caselib.errors.UnknownValue`) naming the first bad
                field; nothing is returned half-parsed.
        """
        vocab = policy.vocabulary
        # the order of the checks is Case.open's, so the same bad input names the same field
        prio = policy.default_priority if priority is None else Priority.parse(priority)
        sev = None if severity is None else Severity.parse(severity)
        ctype = None if case_type is None else vocab.case_type(case_type)
        cat = None if category is None else vocab.category(category)
        if subcategory is not None and cat is None:
            raise InvalidInput("a subcategory needs a category", field="subcategory")
        sub = None if subcategory is None or cat is None else vocab.subcategory(cat, subcategory)
        reason = None if reason_code is None else vocab.reason_code(reason_code)
        src = Source.parse(source)
        link = links if isinstance(links, Links) else Links.from_dict(links or {})
        return cls(
            priority=prio,
            source=src,
            severity=sev,
            case_type=ctype,
            category=cat,
            subcategory=sub,
            reason_code=reason,
            links=link,
            tags=_tags(tags),
            custom=validate_custom_fields(custom or {}),
        )
