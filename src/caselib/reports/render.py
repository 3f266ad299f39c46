"""The scorecard as text a person or a program reads: a terminal table, a JSON document, CSV
and one self-contained HTML page with charts.

Pure functions from :class:`~caselib.reports.Scorecard` values to ``str`` (and a dict): no
file, no clock, no store. The ``caselib report`` CLI and ``caselib demo`` call them; a host
that serves its own dashboard calls them the same way. Why text and not files: the caller
decides where a report goes (stdout, a file, an HTTP response, an e-mail attachment).

Every text taken from case data (group names: teams, assignees, categories, channels) is
untrusted: the HTML form escapes it everywhere (:func:`html.escape`, in SVG too), the CSV
form lets :mod:`csv` quote it, and the JSON form is built by :mod:`json`.

The shapes are written down in ``docs/reports.md``; the JSON document follows the
conventions of :mod:`caselib.serialize` (``"schema"`` and ``"document"`` at the top,
datetimes as fixed-width ISO 8601 with their offset, dates as ``YYYY-MM-DD``).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caselib.reports import charts
from caselib.reports.scorecard import (
    AgeBucket,
    DurationStats,
    Period,
    Scorecard,
    ScorecardRow,
    SummaryCards,
    TargetAttainment,
)
from caselib.timeutil import to_iso
from caselib.vocab import Priority

__all__ = [
    "CSV_COLUMNS",
    "SCHEMA",
    "cards_text",
    "duration_text",
    "period_text",
    "scorecard_csv",
    "scorecard_dict",
    "scorecard_html",
    "scorecard_json",
    "scorecard_table",
]

SCHEMA: Final = 1
"""The scorecard document's shape number (the same rule as :data:`caselib.serialize.SCHEMA`:
within one number keys are only added)."""

_DURATIONS: Final = ("first_response_business", "first_response_calendar",
                     "resolution_business", "resolution_calendar")
_TARGET_ORDER: Final = ("first_response", "next_reply", "resolution")
_TARGET_COLOURS: Final = {"first_response": charts.PALETTE[0],
                          "next_reply": charts.PALETTE[5], "resolution": charts.PALETTE[1]}
"""Each SLA target keeps its colour whichever targets a scorecard has (red means breach
elsewhere on the page, so no target is red)."""
_SHORT: Final = {"first_response": "SLA FR", "next_reply": "SLA NR", "resolution": "SLA res"}

CSV_COLUMNS: Final = (
    "row", "group", "created", "resolved", "reopened", "backlog_start", "backlog_end",
    *(f"{d}_{s}" for d in _DURATIONS
      for s in ("count", "mean_seconds", "median_seconds", "p90_seconds")),
    "first_contact_resolutions", "first_contact_resolution_rate", "reopen_rate",
    "csat_responses", "csat_mean", "csat_satisfied_share",
)
"""The CSV columns every scorecard has, in order. After them come, per SLA target,
``sla_<target>_met``, ``_breached``, ``_open_at_risk``, ``_attainment``, and per backlog-age
bucket ``backlog_age[<label>]`` (the targets and buckets the scorecard has)."""


# --- small formatters -------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    """``42m``, ``3h 05m``, ``2d 04h``; ``–`` for no value (nothing to measure)."""
    if seconds is None:
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def _zone(period: Period) -> ZoneInfo:
    try:
        return ZoneInfo(period.zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def period_text(period: Period) -> str:
    """``2026-03-01 – 2026-03-30 (UTC)``: the first and the last day the period covers in
    its zone (``end`` is exclusive), or the exact times when it does not start at midnight."""
    zone = _zone(period)
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    if start.time() == end.time() == datetime.min.time():
        last = (end - timedelta(days=1)).date()
        return f"{start:%Y-%m-%d} – {last:%Y-%m-%d} ({period.zone})"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({period.zone})"


def _group(row: ScorecardRow) -> str:
    return "(none)" if row.group is None else row.group


_UNPRINTED: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _plain(text: str) -> str:
    """Control and format characters (an ANSI escape, a bidi override in a team name) and
    line separators shown as ``?``, so a terminal prints the name instead of obeying it."""
    return "".join("?" if unicodedata.category(c) in _UNPRINTED else c for c in text)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula: a leading ``= + - @`` (or tab,
    carriage return) gets a ``'`` in front, as OWASP advises for CSV exports."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rows(card: Scorecard) -> tuple[ScorecardRow, ...]:
    """The group rows a table shows above the total: none when nothing is grouped (the
    one row there is the total itself); priorities down the ladder, urgent first."""
    if card.group_by == "none":
        return ()
    if card.group_by == "priority":
        return tuple(sorted(card.rows, key=_priority_rank))
    return card.rows


def _targets(card: Scorecard) -> list[str]:
    """Every SLA target of the scorecard's rows: the known ones in their natural order."""
    names = {a.target for row in (card.total, *card.rows) for a in row.sla}
    known = [t for t in _TARGET_ORDER if t in names]
    return known + sorted(names - set(known))


def _attainment(row: ScorecardRow, target: str) -> TargetAttainment | None:
    return next((a for a in row.sla if a.target == target), None)


def cards_text(cards: SummaryCards) -> str:
    """The cards above a list on one line: ``3 open · 1 critical · 2 resolved today · avg
    first response 42m (median 30m) · CSAT 96% of 25 · 40 total``."""
    fr, csat = cards.first_response, cards.csat
    rated = f"CSAT {_pct(csat.satisfied_share)} of {csat.responses}" if csat.responses else (
        "no CSAT ratings")
    return (f"{cards.open} open · {cards.critical} critical · {cards.resolved_today} resolved "
            f"today · avg first response {duration_text(fr.mean_seconds)} (median "
            f"{duration_text(fr.median_seconds)}) · {rated} · {cards.total} total")


# --- JSON -------------------------------------------------------------------------------


def _stats(stats: DurationStats) -> dict[str, Any]:
    return {"count": stats.count, "total_seconds": stats.total_seconds,
            "mean_seconds": stats.mean_seconds, "median_seconds": stats.median_seconds,
            "p90_seconds": stats.p90_seconds}


def _bucket(bucket: AgeBucket) -> dict[str, Any]:
    return {"label": bucket.label, "min_seconds": bucket.min_seconds,
            "max_seconds": bucket.max_seconds, "count": bucket.count}


def _row(row: ScorecardRow) -> dict[str, Any]:
    return {
        "group": row.group, "created": row.created, "resolved": row.resolved,
        "reopened": row.reopened, "backlog_start": row.backlog_start,
        "backlog_end": row.backlog_end,
        **{name: _stats(getattr(row, name)) for name in _DURATIONS},
        "sla": [{"target": a.target, "met": a.met, "breached": a.breached,
                 "open_at_risk": a.open_at_risk, "attainment": a.attainment}
                for a in row.sla],
        "first_contact_resolutions": row.first_contact_resolutions,
        "first_contact_resolution_rate": row.first_contact_resolution_rate,
        "reopen_rate": row.reopen_rate,
        "csat": {"responses": row.csat.responses, "score_total": row.csat.score_total,
                 "satisfied": row.csat.satisfied, "mean": row.csat.mean,
                 "satisfied_share": row.csat.satisfied_share},
        "backlog_age": [_bucket(b) for b in row.backlog_age],
    }


def scorecard_dict(card: Scorecard) -> dict[str, Any]:
    """The scorecard as a JSON-ready document (``"document": "scorecard"``).

    Every field of the values, plus the derived figures a client would otherwise recompute
    (``mean_seconds``, ``attainment``, the rates, the CSAT mean and share; ``None`` where
    there is nothing to divide by). Shape: ``docs/reports.md``.
    """
    return {
        "schema": SCHEMA, "document": "scorecard",
        "period": {"start": to_iso(card.period.start), "end": to_iso(card.period.end),
                   "zone": card.period.zone},
        "group_by": card.group_by,
        "generated_at": to_iso(card.generated_at),
        "total": _row(card.total),
        "rows": [_row(r) for r in card.rows],
        "series": [{"day": p.day.isoformat(), "created": p.created, "resolved": p.resolved,
                    "backlog": p.backlog} for p in card.series],
        "resolution_histogram": [_bucket(b) for b in card.resolution_histogram],
        "deflection": {"suggested": card.deflection.suggested,
                       "opened": card.deflection.opened,
                       "resolved_by_article": card.deflection.resolved_by_article},
    }


def scorecard_json(card: Scorecard, *, indent: int | None = 2) -> str:
    """:func:`scorecard_dict` as JSON text (keys in a stable order, UTF-8 kept as is)."""
    return json.dumps(scorecard_dict(card), indent=indent, ensure_ascii=False)


# --- CSV --------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else str(round(value, 6))


def scorecard_csv(card: Scorecard) -> str:
    """One CSV line per group and a last line for the total (``row`` is ``group`` or
    ``total``; ``group`` is empty for cases without a value and for the total).

    Columns: :data:`CSV_COLUMNS`, then the SLA targets' and the age buckets' columns.
    Durations are whole seconds (means with decimals), rates are fractions (0.25, not 25%),
    and a figure with nothing to measure is an empty cell. Lines end in CRLF (RFC 4180), so
    a line break inside a name is quoted, never a new line.
    """
    targets = _targets(card)
    labels = [b.label for b in card.total.backlog_age]
    header = [*CSV_COLUMNS,
              *(f"sla_{t}_{f}" for t in targets
                for f in ("met", "breached", "open_at_risk", "attainment")),
              *(f"backlog_age[{label}]" for label in labels)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; and a CR in a name is quoted
    writer.writerow(header)
    for kind, row in [*(("group", r) for r in card.rows), ("total", card.total)]:
        group = "" if kind == "total" or row.group is None else _cell(row.group)
        line: list[str] = [kind, group,
                           *(str(getattr(row, f)) for f in ("created", "resolved", "reopened",
                                                           "backlog_start", "backlog_end"))]
        for name in _DURATIONS:
            stats: DurationStats = getattr(row, name)
            line += [str(stats.count), _num(stats.mean_seconds), _num(stats.median_seconds),
                     _num(stats.p90_seconds)]
        line += [str(row.first_contact_resolutions), _num(row.first_contact_resolution_rate),
                 _num(row.reopen_rate), str(row.csat.responses), _num(row.csat.mean),
                 _num(row.csat.satisfied_share)]
        for target in targets:
            found = _attainment(row, target)
            line += (["", "", "", ""] if found is None else
                     [str(found.met), str(found.breached), str(found.open_at_risk),
                      _num(found.attainment)])
        ages = {b.label: b.count for b in row.backlog_age}
        line += [str(ages.get(label, "")) for label in labels]
        writer.writerow(line)
    return out.getvalue()


# --- terminal table ---------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned figures, widths to the longest cell."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _cells(row: ScorecardRow, targets: Sequence[str], name: str) -> list[str]:
    csat = row.csat
    return [
        name, str(row.created), str(row.resolved), str(row.reopened),
        f"{row.backlog_start}→{row.backlog_end}",
        duration_text(row.first_response_business.median_seconds),
        duration_text(row.first_response_business.p90_seconds),
        duration_text(row.resolution_business.median_seconds),
        duration_text(row.resolution_business.p90_seconds),
        *(_pct(a.attainment if (a := _attainment(row, t)) else None) for t in targets),
        _pct(row.first_contact_resolution_rate), _pct(row.reopen_rate),
        f"{_pct(csat.satisfied_share)} of {csat.responses}" if csat.responses else "–",
    ]


def _buckets(buckets: Sequence[AgeBucket]) -> str:
    return " · ".join(f"{b.label} {b.count}" for b in buckets) or "–"


def scorecard_table(card: Scorecard) -> str:
    """The scorecard for a terminal: one line per group and the total, then the total's
    deflection funnel, backlog age and resolution-time distribution.

    Times in the table are business time (what the SLA measures); the calendar medians are
    on the line below it. ``A→B`` is the backlog at the period's start and end.
    """
    targets = _targets(card)
    headers = ["group" if card.group_by == "none" else card.group_by, "created", "resolved",
               "reopened", "backlog", "FR med", "FR p90", "res med", "res p90",
               *(_SHORT.get(t, t) for t in targets), "FCR", "reopen", "CSAT 4-5"]
    body = [_cells(r, targets, _plain(_group(r))[:24]) for r in _rows(card)]
    body.append(_cells(card.total, targets, "all" if card.group_by == "none" else "TOTAL"))
    total, funnel = card.total, card.deflection
    lines = [
        f"Scorecard {period_text(card.period)}"
        + ("" if card.group_by == "none" else f", by {card.group_by}")
        + f" · generated {to_iso(card.generated_at)[:16].replace('T', ' ')} UTC",
        "",
        *_table(headers, body),
        "",
        "FR = first response, res = resolution (business time); SLA = met / (met + breached)",
        f"Calendar time (total): FR median "
        f"{duration_text(total.first_response_calendar.median_seconds)}, resolution median "
        f"{duration_text(total.resolution_calendar.median_seconds)}",
        f"Deflection: {funnel.suggested} suggested → {funnel.opened} opened → "
        f"{funnel.resolved_by_article} resolved by an article",
        f"Backlog age at the end: {_buckets(total.backlog_age)}",
        f"Resolution time (calendar): {_buckets(card.resolution_histogram)}",
    ]
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;
max-width:1100px;color:#111827;background:#fff;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#6b7280;margin:0 0 16px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:130px}
.tile b{display:block;font-size:22px}.tile span{color:#6b7280;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:8px;padding:8px}
figcaption{font-weight:600;font-size:14px;margin:4px 6px 6px}
table{border-collapse:collapse;font-size:12px;width:100%}
th,td{padding:4px 6px;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}tr.total td{font-weight:700}
.note{color:#6b7280;font-size:12px}.wide{overflow-x:auto}
figcaption .note{display:block;font-weight:400}
"""


def _priority_rank(row: ScorecardRow) -> tuple[int, str]:
    """Urgent first; groups that are not priorities after them, by name."""
    try:
        return (-list(Priority).index(Priority(row.group)), "")
    except ValueError:
        return (1, row.group or "")


def _sla_chart(card: Scorecard, by_priority: Scorecard | None) -> tuple[str, str]:
    source = by_priority or (card if card.group_by == "priority" else None)
    rows = sorted(source.rows, key=_priority_rank) if source is not None else [card.total]
    labels = [_group(r) for r in rows] if source is not None else ["all priorities"]
    targets = _targets(source or card)
    series = [charts.Series(t.replace("_", " "),
                            tuple(None if (a := _attainment(r, t)) is None or a.attainment
                                  is None else 100 * a.attainment for r in rows),
                            _TARGET_COLOURS.get(t, charts.PALETTE[4 + i % 2]))
              for i, t in enumerate(targets)]
    note = "" if source is not None else " (pass a scorecard grouped by priority to split it)"
    return charts.grouped_bars("SLA attainment by priority", labels, series), note


def _tiles(total: ScorecardRow) -> str:
    resolution = _attainment(total, "resolution")
    tiles = [
        (str(total.created), "created"), (str(total.resolved), "resolved"),
        (f"{total.backlog_start} → {total.backlog_end}", "backlog start → end"),
        (duration_text(total.first_response_business.median_seconds),
         "median first response (business)"),
        (duration_text(total.resolution_business.median_seconds),
         "median resolution (business)"),
        (_pct(resolution.attainment if resolution else None), "resolution SLA met"),
        (_pct(total.first_contact_resolution_rate), "first-contact resolution"),
        (_pct(total.reopen_rate), "reopen rate"),
        (_pct(total.csat.satisfied_share), f"CSAT 4–5 ({total.csat.responses} rating"
                                           f"{'' if total.csat.responses == 1 else 's'})"),
    ]
    return "".join(f'<div class="tile"><b>{escape(v)}</b><span>{escape(k)}</span></div>'
                   for v, k in tiles)


def _html_table(card: Scorecard) -> str:
    targets = _targets(card)
    headers = ["group" if card.group_by == "none" else card.group_by, "created", "resolved",
               "reopened", "backlog", "FR median", "FR p90", "res median", "res p90",
               *(_SHORT.get(t, t) for t in targets), "FCR", "reopen", "CSAT 4–5"]
    rows = [("", _cells(r, targets, _group(r))) for r in _rows(card)]
    rows.append(("total", _cells(card.total, targets,
                                 "All cases" if card.group_by == "none" else "Total")))
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{cls}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        for cls, cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def scorecard_html(card: Scorecard, *, by_priority: Scorecard | None = None,
                   title: str = "Service-desk scorecard") -> str:
    """One self-contained HTML page: headline tiles, four inline-SVG charts (volume and
    backlog over time, resolution-time distribution, SLA attainment by priority, deflection
    funnel) and the scorecard table. No script, no external file, no web font.

    ``by_priority`` is the same period's scorecard grouped by priority, for the SLA chart;
    without it the chart uses ``card`` when it is grouped by priority, else one bar group for
    all priorities. Every text from the data is escaped.
    """
    days = [f"{p.day:%m-%d}" for p in card.series]
    volume = charts.bars_and_line(
        "Volume and backlog per day", days,
        [charts.Series("created", tuple(p.created for p in card.series), charts.PALETTE[0]),
         charts.Series("resolved", tuple(p.resolved for p in card.series), charts.PALETTE[1])],
        charts.Series("backlog (right axis)", tuple(p.backlog for p in card.series),
                      charts.PALETTE[3]))
    resolution = charts.histogram(
        "Resolution time (calendar)",
        [charts.Bar(b.label, b.count) for b in card.resolution_histogram])
    sla, sla_note = _sla_chart(card, by_priority)
    f = card.deflection
    deflection = charts.funnel("Deflection funnel", [
        charts.Bar("suggested", f.suggested), charts.Bar("opened", f.opened),
        charts.Bar("resolved by article", f.resolved_by_article)])
    figures = [
        ("volume", "Volume and backlog over time", volume, ""),
        ("resolution", "Resolution-time distribution (calendar time)", resolution, ""),
        ("sla", "SLA attainment by priority", sla, sla_note),
        ("deflection", "Deflection funnel (knowledge base)", deflection, ""),
    ]
    figure_html = "".join(
        f'<figure id="chart-{key}" data-chart="{key}"><figcaption>{escape(caption)}'
        f'<span class="note">{escape(note)}</span></figcaption>{svg}</figure>'
        for key, caption, svg, note in figures)
    grouped = "" if card.group_by == "none" else f", grouped by {card.group_by}"
    ages = _buckets(card.total.backlog_age)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">{escape(period_text(card.period) + grouped)} · generated '
        f"{escape(to_iso(card.generated_at)[:16].replace('T', ' '))} UTC</p>"
        f'<div class="tiles">{_tiles(card.total)}</div>'
        f'<h2>Charts</h2><div class="charts">{figure_html}</div>'
        f'<h2>Scorecard</h2><div class="wide">{_html_table(card)}</div>'
        f'<p class="note">FR = first response, res = resolution, both in business time; '
        f"SLA = met / (met + breached); FCR = first-contact resolution. Backlog age at the "
        f"end: {escape(ages)}. Definitions: docs/metrics.md.</p>"
        "</body></html>\n"
    )
