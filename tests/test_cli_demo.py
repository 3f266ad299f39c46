"""``caselib demo``: the scripted morning ends with its summary cards, its scorecard and an
HTML report written beside the database (and says where)."""

from __future__ import annotations

import io
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
    timeline = out.split("Timeline of ", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    routed = next(line for line in timeline if " router " in line and "fallback" in line)
    assert routed.endswith("…")  # the long routing sentence shows it was shortened


def test_the_demo_delivers_to_local_servers(capsys: pytest.CaptureFixture[str]) -> None:
    """The morning's ack e-mails, the critical webhook (signature verified by the receiver)
    and the breach digests land on servers the demo starts on 127.0.0.1; breach notices
    reach people (owner and manager; the team's lead when nobody owns the case), and the
    sweep never reports 'urgent → urgent'."""
    began = time.perf_counter()
    assert main(["demo", "--store", "memory"]) == 0
    took = time.perf_counter() - began
    out = capsys.readouterr().out
    assert "SMTP 127.0.0.1:" in out and "webhooks http://127.0.0.1:" in out
    assert out.count("mail    → jane@example.com") == 2
    assert "We received your request: VPN drops every hour" in out
    assert ("webhook → critical_webhook: CASE-0003 (urgent) 'Installer missing a bracket'; "
            "signature ok") in out
    assert "priority stays urgent; notified: pat" in out
    assert "notified: bo, mia" in out
    assert "queue:" not in out and "urgent → urgent" not in out
    for who in ("pat", "bo", "mia"):
        assert f"mail    → {who}@acme.example" in out
    assert out.count("2 case notices") == 3
    assert took < 5, f"the demo took {took:.1f} s"


def test_without_aiosmtpd_a_stdlib_sink_receives_the_mail() -> None:
    """The host install from the wheel has no aiosmtpd: the standard-library sink stands in."""
    from caselib.cli import run_demo
    from caselib.storage.memory import MemoryStore

    out = io.StringIO()
    assert run_demo(MemoryStore(), "in-memory store", out, prefer_aiosmtpd=False) == 0
    text = out.getvalue()
    assert "(stdlib sink)" in text
    assert text.count("mail    → jane@example.com") == 2 and "signature ok" in text
    assert text.count("2 case notices") == 3


def test_servers_that_cannot_start_skip_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """No port to bind (a locked-down host): the demo says delivery was skipped and goes
    on with the rest of its morning."""
    import caselib.cli
    from caselib.storage.memory import MemoryStore

    def refuse(*args: object, **kwargs: object) -> object:
        raise OSError("no ports here")

    monkeypatch.setattr(caselib.cli, "local_servers", refuse)
    out = io.StringIO()
    assert caselib.cli.run_demo(MemoryStore(), "in-memory store", out) == 0
    text = out.getvalue()
    assert "delivery skipped: the local test servers could not start" in text
    assert "Scorecard by team" in text and "Outbox: relayed" in text
