"""``caselib demo``: the scripted morning ends with its summary cards, its scorecard and an
HTML report written beside the database (and says where)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from caselib.cli import main, report_beside


def test_the_demo_reports_its_morning(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.sqlite3"
    began = time.perf_counter()
    assert main(["demo", "--db", str(db)]) == 0
    took = time.perf_counter() - began
    out = capsys.readouterr().out
    assert "Summary cards (Ana's view)" in out
    assert "3 open · 2 critical · 0 resolved today" in out
    assert "Scorecard by team" in out and "  TOTAL " in out
    page = report_beside(db)
    assert page == tmp_path / "demo-report.html"
    assert f"HTML report with charts: {page}" in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 4
    assert took < 10, f"the demo took {took:.1f} s"


def test_the_memory_demo_has_no_folder_for_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--store", "memory"]) == 0
    out = capsys.readouterr().out
    assert "Scorecard by team" in out and "HTML report: not written" in out
