"""Article drafts from resolved cases: the public thread and the resolution, redacted.

Only what the customer could see goes in (subject, description, public replies, the latest
resolution summary); internal notes never do, for the same reason they never feed a
suggestion. Personal data is removed by :class:`~caselib.kb.Redactor`; the draft is
returned, not stored: an editor reads it and saves it with ``put_article``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from caselib.access import Permission
from caselib.cases import Actor, Case
from caselib.checks import require_str, require_strs
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import InvalidInput
from caselib.kb import MAX_ARTICLE_BODY, MAX_ARTICLE_TITLE, Article, ArticleStatus, Redactor
from caselib.vocab import Audience

__all__ = ["draft_article", "redactor_for"]


def redactor_for(case: Case, names: Sequence[str], extra: Sequence[str] = ()) -> Redactor:
    """The redactor for one case: the host's names (contact, account) plus the case's own
    literal data: custom-field values, link ids (contact, account, order …) and the ids of
    customers who wrote on it."""
    values: list[str] = [str(v) for v in case.custom.values()
                         if isinstance(v, str | int | float) and not isinstance(v, bool)]
    values += list(case.links.to_dict().values())
    values += [e.actor for e in case.timeline if e.actor_kind.value == "customer"]
    if case.created_by:
        values.append(case.created_by)
    return Redactor(names=tuple(names), values=(*values, *extra))


def draft_article(ctx: DeskContext, case_id: str, *, actor: Actor, names: Iterable[str],
                  article_id: str | None) -> Article:
    """An unpublished draft from a resolved case (see the module docstring)."""
    check.actor(actor)
    check.case_id(case_id)
    names = [require_str(n, f"names[{i}]", "a name (a string)")
             for i, n in enumerate(require_strs(names, "names"))]
    case = ctx.read(case_id, actor, Permission.READ)  # customers and outsiders: refused
    if not case.resolutions:
        raise InvalidInput(
            f"case {case.number} has no resolution yet; resolve it before drafting an article",
            field="case_id")
    redact = redactor_for(case, names, (case.number,)).redact
    replies = [e for e in case.timeline
               if e.audience is Audience.PUBLIC and e.kind == "reply" and e.body.strip()]
    parts = [redact(case.description.strip())] if case.description.strip() else []
    for entry in replies:
        who = "Customer" if entry.actor_kind.value == "customer" else "Support"
        parts.append(f"{who}: {redact(entry.body.strip())}")
    parts.append(f"Resolution: {redact(case.resolutions[-1].summary.strip())}")
    body = "\n\n".join(parts)[:MAX_ARTICLE_BODY]
    title = redact(case.subject.strip())[:MAX_ARTICLE_TITLE] or f"From case {case.number}"
    return Article(
        id=f"draft-{ctx.ids()}" if article_id is None else check.article_id(article_id),
        title=title,
        body=body,
        category=case.category,
        status=ArticleStatus.DRAFT,
        updated_at=ctx.now(),
    )
