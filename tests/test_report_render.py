"""caselib.reports.render: the scorecard as a terminal table, JSON, CSV and one HTML page.

Built from hand-made scorecards (tests/scorecards.py) whose every figure is chosen, so each
test names the text it expects. Group names are untrusted case data: the hostile one must come
out escaped (HTML), quoted (CSV) and harmless (terminal).
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselib.reports import (
    duration_text,
    period_text,
    scorecard_csv,
    scorecard_dict,
    scorecard_html,
    scorecard_json,
    scorecard_table,
)
from caselib.reports.charts import Bar, funnel, histogram
from caselib.reports.render import CSV_COLUMNS
from scorecards import HOSTILE, empty_scorecard, row, sample_scorecard

CHARTS = ("volume", "resolution", "sla", "deflection")


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "–"), (0, "0s"), (59.4, "59s"), (60, "1m"), (2520, "42m"), (3600, "1h 00m"),
    (11100, "3h 05m"), (86400, "1d 00h"), (187200, "2d 04h"),
])
def test_duration_text(seconds: float | None, text: str) -> None:
    """Short, unit-labelled, and a dash when there is nothing to measure."""
    assert duration_text(seconds) == text


def test_period_text_names_the_last_day_covered() -> None:
    """``end`` is exclusive: a week from the 1st reads 1st – 7th."""
    assert period_text(sample_scorecard().period) == "2026-03-01 – 2026-03-07 (UTC)"


class TestTable:
    def test_one_line_per_group_and_the_total(self) -> None:
        text = scorecard_table(sample_scorecard("team"))
        lines = text.splitlines()
        assert lines[0].startswith("Scorecard 2026-03-01 – 2026-03-07 (UTC), by team")
        body = [line for line in lines if line.startswith(("support", "<script", "(none)",
                                                            "TOTAL"))]
        assert len(body) == 4
        total = body[-1].split()
        assert total[:5] == ["TOTAL", "21", "17", "1", "5→9"]
        assert "71%" in total and "64%" in total and "88%" in total
        assert "Deflection: 40 suggested → 18 opened → 7 resolved by an article" in text

    def test_ungrouped_shows_the_total_once(self) -> None:
        lines = scorecard_table(sample_scorecard("none")).splitlines()
        assert [line.split()[0] for line in lines[2:5]] == ["group", "-----", "all"]
        assert not any(line.startswith("TOTAL") for line in lines)

    def test_priorities_go_down_the_ladder(self) -> None:
        lines = scorecard_table(sample_scorecard("priority")).splitlines()
        assert [line.split()[0] for line in lines[4:9]] == [
            "urgent", "high", "normal", "low", "TOTAL"]

    def test_control_characters_are_not_sent_to_the_terminal(self) -> None:
        card = sample_scorecard("team")
        card = attrs.evolve(card, rows=(row("\x1b[31mred\x1b[0m", 1, 1),))
        text = scorecard_table(card)
        assert "\x1b" not in text and "?[31mred?[0m" in text

    def test_an_empty_period_prints_dashes(self) -> None:
        text = scorecard_table(empty_scorecard())
        assert "all" in text and "Backlog age at the end: –" in text


class TestJson:
    def test_the_document(self) -> None:
        card = sample_scorecard("team")
        doc = json.loads(scorecard_json(card))
        assert doc == scorecard_dict(card)  # JSON-native: nothing coerced on the way
        assert (doc["schema"], doc["document"], doc["group_by"]) == (1, "scorecard", "team")
        assert doc["period"] == {"start": "2026-03-01T00:00:00.000000+00:00",
                                 "end": "2026-03-08T00:00:00.000000+00:00", "zone": "UTC"}
        assert [r["group"] for r in doc["rows"]] == ["support", HOSTILE, None]
        total = doc["total"]
        assert total["first_response_business"] == {
            "count": 21, "total_seconds": 52920, "mean_seconds": 2520.0,
            "median_seconds": 2520, "p90_seconds": 7560}
        assert total["sla"][1] == {"target": "resolution", "met": 9, "breached": 5,
                                   "open_at_risk": 0, "attainment": 9 / 14}
        assert total["csat"]["satisfied_share"] == 7 / 8
        assert doc["series"][0] == {"day": "2026-03-01", "created": 4, "resolved": 2,
                                    "backlog": 17}
        assert doc["deflection"] == {"suggested": 40, "opened": 18, "resolved_by_article": 7}

    def test_nothing_to_divide_by_is_null(self) -> None:
        total = scorecard_dict(empty_scorecard())["total"]
        assert total["reopen_rate"] is None and total["csat"]["mean"] is None
        assert total["resolution_calendar"]["median_seconds"] is None


class TestCsv:
    def test_one_row_per_group_then_the_total(self) -> None:
        rows = list(csv.reader(io.StringIO(scorecard_csv(sample_scorecard("team")))))
        header, body = rows[0], rows[1:]
        assert tuple(header[: len(CSV_COLUMNS)]) == CSV_COLUMNS
        assert header[len(CSV_COLUMNS):][:4] == [
            "sla_first_response_met", "sla_first_response_breached",
            "sla_first_response_open_at_risk", "sla_first_response_attainment"]
        assert header[-1] == "backlog_age[≥ 7 days]"
        assert [(r[0], r[1]) for r in body] == [
            ("group", "support"), ("group", HOSTILE), ("group", ""), ("total", "")]
        assert all(len(r) == len(header) for r in body)
        total = dict(zip(header, body[-1], strict=True))
        assert total["created"] == "21" and total["sla_resolution_attainment"] == "0.642857"
        no_ratings = dict(zip(header, body[2], strict=True))
        assert no_ratings["csat_mean"] == ""  # nothing to measure: an empty cell

    def test_a_group_name_is_never_a_spreadsheet_formula(self) -> None:
        card = attrs.evolve(sample_scorecard("team"), rows=(row("=HYPERLINK(1)", 1, 1),))
        rows = list(csv.reader(io.StringIO(scorecard_csv(card))))
        assert rows[1][1] == "'=HYPERLINK(1)"


def _svgs(page: str) -> dict[str, str]:
    found = re.findall(r'<figure id="chart-(\w+)".*?(<svg.*?</svg>)</figure>', page, re.DOTALL)
    return dict(found)


class TestHtml:
    def test_self_contained_and_escaped(self) -> None:
        page = scorecard_html(sample_scorecard("team"),
                              by_priority=sample_scorecard("priority"))
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        assert "<script" not in page  # the hostile group name is text, not markup
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        for external in ("src=", "<link", "@import", "url(", "http://", "https://"):
            assert external not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")

    def test_four_charts_each_drawn(self) -> None:
        page = scorecard_html(sample_scorecard("team"),
                              by_priority=sample_scorecard("priority"))
        svgs = _svgs(page)
        assert sorted(svgs) == sorted(CHARTS)
        assert svgs["volume"].count("<rect") >= 14 and "<polyline" in svgs["volume"]
        assert svgs["resolution"].count("<rect") == 5
        assert svgs["deflection"].count("<rect") == 3
        labels = re.findall(r">(urgent|high|normal|low)<", svgs["sla"])
        assert labels == ["urgent", "high", "normal", "low"]  # the ladder, urgent first

    def test_sla_chart_without_a_priority_scorecard(self) -> None:
        page = scorecard_html(sample_scorecard("team"))
        assert ">all priorities<" in _svgs(page)["sla"]
        by_priority = scorecard_html(sample_scorecard("priority"))
        assert ">urgent<" in _svgs(by_priority)["sla"]

    def test_an_empty_period_still_draws_every_chart(self) -> None:
        svgs = _svgs(scorecard_html(empty_scorecard()))
        assert sorted(svgs) == sorted(CHARTS)
        for svg in svgs.values():
            assert "<line" in svg or "<rect" in svg
            assert "no data" in svg or "no suggestions" in svg


def test_chart_labels_are_escaped() -> None:
    """The chart helpers escape their own labels too (a host may call them directly)."""
    assert "<b>" not in histogram("<b>", [Bar("<b>", 1)])
    assert "&lt;b&gt;" in funnel("t", [Bar("<b>", 2), Bar("x", 1)])


_TAGS = frozenset({"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div",
                   "b", "span", "figure", "figcaption", "svg", "line", "text", "rect",
                   "polyline", "circle", "table", "thead", "tbody", "tr", "th", "td"})


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


_NAMES = st.text(min_size=1, max_size=30)


@given(names=st.lists(_NAMES, min_size=1, max_size=5, unique=True),
       counts=st.lists(st.integers(0, 10_000), min_size=5, max_size=5))
def test_any_group_name_stays_text(names: list[str], counts: list[int]) -> None:
    """Whatever the names, the page has only the renderer's own tags, each name reads back
    as text, the CSV gives every name back (formula-led ones behind a ``'``), and the JSON
    document round-trips."""
    rows = tuple(row(name, counts[i], min(counts[i], counts[-1])) for i, name in
                 enumerate(names))
    card = attrs.evolve(sample_scorecard("team"), rows=rows)
    parser = _Tags()
    parser.feed(scorecard_html(card))
    assert parser.tags <= _TAGS
    page_text = "".join(parser.texts)
    for name in names:
        assert name in page_text
    read = list(csv.reader(io.StringIO(scorecard_csv(card), newline="")))
    written = [r[1] for r in read[1:-1]]
    assert written == [("'" + n if n[:1] in "=+-@\t\r" else n) for n in names]
    assert json.loads(scorecard_json(card)) == scorecard_dict(card)
