"""The shapes of what the desk's other calls return: the customer's view of a case, routing
decisions, SLA explanations and sweep reports, knowledge-base articles and suggestions,
deflection figures, outbox messages and notifications."""

from __future__ import annotations

from typing import Any

from caselib.desk import BreachNotice, CustomerView, SweepReport
from caselib.errors import InvalidInput
from caselib.kb import (
    MAX_ARTICLE_BODY,
    MAX_ARTICLE_TITLE,
    Article,
    ArticleStats,
    ArticleStatus,
    Deflection,
    DeflectionReport,
    Explanation,
    KbStats,
    PeriodStats,
    Suggestion,
)
from caselib.ports import Notification, OutboxMessage
from caselib.reports import Scorecard, scorecard_dict
from caselib.routing import RouteDecision
from caselib.serialize._read import Doc, duration_text, inside, instant_text, jsonable
from caselib.sla import DueExplanation

__all__ = [
    "article_from",
    "article_to",
    "breach_to",
    "customer_case",
    "deflection_report_to",
    "deflection_to",
    "explanation_to",
    "kb_stats_to",
    "notification_to",
    "outbox_to",
    "route_to",
    "scorecard_to",
    "suggestion_to",
    "sweep_to",
]

_T = instant_text


def customer_case(view: CustomerView) -> dict[str, Any]:
    """What a customer may see of a case, from :meth:`ServiceDesk.customer_view
    <caselib.ServiceDesk.customer_view>`: number, subject, status label, times, the
    resolution summary, the public replies (redacted ones blanked) and what the reader may
    do now (``can_reopen``, ``can_rate``, ``reply_opens_follow_up``; added in 0.3 — a
    client reading a document without them takes them as ``false``).

    It takes a :class:`~caselib.desk.CustomerView` and nothing else, so no internal note,
    system entry, assignee, team or SLA state can reach it: they are not in its input.
    """
    if not isinstance(view, CustomerView):
        raise InvalidInput(
            f"customer_case takes a CustomerView (desk.customer_view(case_id)), not a "
            f"{type(view).__name__}: a case holds internal notes a customer must not see",
            field="view")
    return {
        "number": view.number,
        "subject": view.subject,
        "status": view.status,
        "status_label": view.status_label,
        "status_category": view.status_category.value,
        "created_at": _T(view.created_at),
        "updated_at": _T(view.updated_at),
        "resolution": view.resolution,
        "can_reopen": view.can_reopen,
        "can_rate": view.can_rate,
        "reply_opens_follow_up": view.reply_opens_follow_up,
        "replies": [
            {"seq": r.seq, "at": _T(r.at), "author": r.author,
             "from_customer": r.from_customer, "body": r.body, "redacted": r.redacted}
            for r in view.replies
        ],
    }


def route_to(decision: RouteDecision) -> dict[str, Any]:
    """Team, owner, the steps that decided (rule, fallback, default) and the one-line text."""
    out: dict[str, Any] = jsonable(decision.to_dict(), "route")
    out["kind"] = decision.kind.value
    out["rule_id"] = decision.rule_id
    return out


def explanation_to(e: DueExplanation) -> dict[str, Any]:
    """Why a target is due when it is due: the data behind ``text``, and ``text`` itself."""
    return {
        "target": e.target,
        "policy_id": e.policy_id,
        "priority": e.priority.value,
        "duration": duration_text(e.duration),
        "start": _T(e.start),
        "counted_from": _T(e.counted_from),
        "pauses": [{"start": _T(p.start), "end": _T(p.end), "reason": p.reason}
                   for p in e.pauses],
        "timezone": e.timezone,
        "windows": list(e.windows),
        "holidays": [{"name": "", "closed_from": None, "closed_until": None, "active": True,
                      **h.to_dict()} for h in e.holidays],
        "due_at": _T(e.due_at),
        "warn_at": _T(e.warn_at),
        "met_at": _T(e.met_at),
        "state": e.state,
        "text": e.text,
        "priority_changes": [
            {"at": _T(m.at), "old_priority": m.old_priority.value,
             "new_priority": m.new_priority.value, "old_due": _T(m.old_due),
             "new_due": _T(m.new_due), "by_sweep": m.by_sweep, "direction": m.direction}
            for m in e.priority_changes
        ],
    }


def breach_to(b: BreachNotice) -> dict[str, Any]:
    """One breach the sweep recorded and who was told."""
    return {"case_id": b.case_id, "number": b.number, "target": b.target,
            "due_at": _T(b.due_at), "breached_by_seconds": b.breached_by_seconds,
            "old_priority": b.old_priority.value, "new_priority": b.new_priority.value,
            "notified": list(b.notified)}


def sweep_to(r: SweepReport) -> dict[str, Any]:
    """What one sweep did: cases examined, breaches recorded, races lost and re-read."""
    return {"at": _T(r.at), "examined": r.examined, "conflicts": r.conflicts,
            "cases_breached": r.cases_breached, "breaches": [breach_to(b) for b in r.breaches]}


def article_to(a: Article) -> dict[str, Any]:
    """An article as an editor stores it."""
    return {"id": a.id, "title": a.title, "body": a.body, "category": a.category,
            "tags": list(a.tags), "status": a.status.value, "locale": a.locale,
            "updated_at": _T(a.updated_at)}


def article_from(d: Doc) -> Article:
    with inside(d.path):
        article = Article(
            id=d.text("id"),
            title=d.text("title", limit=MAX_ARTICLE_TITLE),
            body=d.text("body", limit=MAX_ARTICLE_BODY, empty=True, default=""),
            category=d.opt_text("category", empty=True),
            tags=tuple(d.texts("tags", default=[])),
            status=d.member("status", ArticleStatus, default="published"),
            locale=d.text("locale", limit=35, default="en"),
            updated_at=d.instant("updated_at"),
        )
    d.finish()
    return article


def _explanation(e: Explanation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "matches": [{"term": m.term, "query_weight": m.query_weight, "idf": m.idf,
                     "tf": dict(m.tf), "contribution": m.contribution} for m in e.matches],
        "category_boost": e.category_boost,
        "total": e.total,
    }
    if e.fusion is not None:  # the semantic scorer is on: how the two rankings were fused
        f = e.fusion
        doc["fusion"] = {"score": f.score, "text_rank": f.text_rank, "text_score": f.text_score,
                         "vector_rank": f.vector_rank, "similarity": f.similarity}
    return doc


def suggestion_to(s: Suggestion) -> dict[str, Any]:
    """A ranked article (rank from 1), its score and why it scored that."""
    return {"article_id": s.article_id, "score": s.score, "rank": s.rank,
            "explanation": _explanation(s.explanation)}


def kb_stats_to(s: KbStats) -> dict[str, Any]:
    return {"articles": s.articles, "indexed": s.indexed, "terms": s.terms,
            "postings": s.postings}


def deflection_to(d: Deflection) -> dict[str, Any]:
    """An opened suggestion, with the rank and score it was shown at."""
    return {"case_id": d.case_id, "article_id": d.article_id, "actor": d.actor,
            "at": _T(d.at), "rank": d.rank, "score": d.score}


def _period(p: PeriodStats) -> dict[str, Any]:
    return {"start": _T(p.start), "shown": p.shown, "opened": p.opened, "cases": p.cases,
            "deflected": p.deflected, "open_rate": p.open_rate,
            "deflection_rate": p.deflection_rate}


def _article_stats(a: ArticleStats) -> dict[str, Any]:
    return {"article_id": a.article_id, "shown": a.shown, "opened": a.opened,
            "resolved": a.resolved}


def deflection_report_to(r: DeflectionReport) -> dict[str, Any]:
    """Totals (``start`` null), one row per period (ascending) and per article (by id)."""
    return {"totals": _period(r.totals), "periods": [_period(p) for p in r.periods],
            "articles": [_article_stats(a) for a in r.articles]}


def outbox_to(m: OutboxMessage) -> dict[str, Any]:
    """A domain event as a webhook carries it; ``key`` is its idempotency key."""
    return {"key": m.key, "tenant": m.tenant, "case_id": m.case_id, "type": m.type,
            "payload": jsonable(m.payload, "payload"), "created_at": _T(m.created_at)}


def notification_to(n: Notification) -> dict[str, Any]:
    return {"recipient": n.recipient, "subject": n.subject, "body": n.body,
            "case_id": n.case_id, "kind": n.kind, "key": n.key}


def scorecard_to(card: Scorecard) -> dict[str, Any]:
    """The scorecard's fields as :func:`caselib.reports.scorecard_dict` writes them: one
    shape, defined there (docs/reports.md), whichever way a host asks for it."""
    return {k: v for k, v in scorecard_dict(card).items() if k not in ("schema", "document")}
