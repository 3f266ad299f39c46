"""The HTML scorecard in a real browser: headless Chromium (Debian's ``chromium``) opens the
page ``caselib report --format html`` writes from a small real SQLite store (and a hand-made
scorecard with every chart full), takes a screenshot and dumps its DOM.

Checked: the screenshot is a real picture (decoded here with zlib and struct: many colours,
among them the charts' bar colours, not one blank colour), and every chart's ``<svg>`` is in
the rendered DOM with drawn elements in it. Without ``chromium`` on PATH the test skips, except
under CI (``CI=true``, set by ``.ci/run``, which installs it), where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from caselib.cli import main
from caselib.desk import ServiceDesk
from caselib.reports import scorecard_html
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from scorecards import WEEK, build_history, sample_scorecard

CHARTS = ("volume", "resolution", "sla", "deflection")
SHAPES = frozenset({"rect", "polyline", "circle", "path", "line", "polygon"})
WIDTH, HEIGHT = 1100, 1500


def chromium() -> str:
    """The browser's path; skips (locally) or fails (CI) without one."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not on PATH; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless run with its own profile folder (parallel runs do not share a lock)."""
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """``(width, height, rows)`` of an 8-bit RGB or RGBA PNG, each row its raw pixel bytes
    (the scanline filters undone, as in the PNG spec, section 9)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                           ) & 0xFF
        previous = bytes(line)
        rows.append(previous)
    return width, height, rows


def colours(rows: list[bytes], bpp: int) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour (every second row and column: enough to count)."""
    seen: Counter[tuple[int, int, int]] = Counter()
    for line in rows[::2]:
        for i in range(0, len(line), 2 * bpp):
            seen[(line[i], line[i + 1], line[i + 2])] += 1
    return seen


class _Svgs(HTMLParser):
    """Per chart figure (``id="chart-…"``): how many ``<svg>`` and shapes it holds, and
    (as ``"drawn rect"``) the rectangles with an area."""

    def __init__(self) -> None:
        super().__init__()
        self.figure: str | None = None
        self.found: dict[str, Counter[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id") or ""
        if tag == "figure" and ident.startswith("chart-"):
            self.figure = ident.removeprefix("chart-")
            self.found[self.figure] = Counter()
        elif self.figure is not None:
            self.found[self.figure][tag] += 1
            size = dict(attrs)
            if tag == "rect" and float(size.get("width") or 0) * float(
                    size.get("height") or 0) > 0:
                self.found[self.figure]["drawn rect"] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.figure = None


def real_store_page(folder: Path) -> tuple[Path, dict[str, int]]:
    """``caselib report --format html`` of a real SQLite store written through the desk."""
    db, page = folder / "support.db", folder / "report.html"
    store = SqliteStore(db)
    try:
        clock = FrozenClock(WEEK)
        build_history(ServiceDesk(store, tenant="acme", clock=clock), clock)
    finally:
        store.close()
    assert main(["report", "--store", str(db), "--tenant", "acme", "--from", "2026-03-02",
                 "--to", "2026-03-08", "--group-by", "team", "--format", "html",
                 "--out", str(page)]) == 0
    return page, {"blue bars": 200, "green bars": 200}


def hand_made_page(folder: Path) -> tuple[Path, dict[str, int]]:
    """A hand-made scorecard with every chart full (the funnel too)."""
    page = folder / "report.html"
    page.write_text(scorecard_html(sample_scorecard("team"),
                                   by_priority=sample_scorecard("priority")), encoding="utf-8")
    return page, {"blue bars": 200, "green bars": 200, "violet funnel": 200}


COLOURS = {"blue bars": (0x25, 0x63, 0xEB), "green bars": (0x16, 0xA3, 0x4A),
           "violet funnel": (0x7C, 0x3A, 0xED)}


@pytest.mark.parametrize("make", [real_store_page, hand_made_page],
                         ids=["real-sqlite-store", "hand-made"])
def test_chromium_renders_every_chart(make: object, tmp_path: Path) -> None:
    browser = chromium()
    assert callable(make)
    page, expected = make(tmp_path)
    shot = tmp_path / "report.png"
    run_chromium(browser, tmp_path / "profile", f"--screenshot={shot}",
                 f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000, "blank or missing screenshot"
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    seen = colours(rows, len(rows[0]) // width)
    white = seen[(255, 255, 255)]
    assert len(seen) > 50 and white < 0.97 * sum(seen.values()), "the page is one colour"
    for name, least in expected.items():
        assert seen[COLOURS[name]] > least, f"no {name} in the screenshot"

    dom = run_chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    parser = _Svgs()
    parser.feed(dom)
    assert sorted(parser.found) == sorted(CHARTS)
    for chart, tags in parser.found.items():
        assert tags["svg"] == 1, chart
        assert sum(tags[s] for s in SHAPES) > 0, f"the {chart} chart drew nothing"
        assert tags["drawn rect"] > 0, f"the {chart} chart has no bars"
