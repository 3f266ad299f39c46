"""The corpus under tests/mail/: real-world shaped messages (Outlook, Gmail and Apple Mail
replies, a forward, a DSN, out-of-office replies, attachments, non-UTF-8 charsets), each
with its expected decision in tests/mail/expected.json; and hypothesis-built messages,
which raise nothing but CaselibError and never post into a case they hold no token for."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import ServiceDesk
from caselib.adapters import FileBlobStore
from caselib.cases import Actor
from caselib.desk.mail import MailSettings
from caselib.errors import CaselibError
from caselib.mail import ReplyKeys
from caselib.ports import MailRecord, mail_ledger
from caselib.storage.memory import MemoryStore
from caselib.testing import FrozenClock

CORPUS = Path(__file__).parent / "mail"
EXPECTED: dict[str, dict[str, object]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8"))
KEYS = ReplyKeys({"k1": b"corpus-reply-key-001"}, "k1")
AGENT = Actor.agent("ana", "support")
SEED = (b"From: Kim Lee <kim@customer.test>\r\nTo: help@support.test\r\n"
        b"Subject: Printer jams\r\nMessage-ID: <seed@customer.test>\r\n\r\n"
        b"The printer jams on every page.\r\n")


def seeded(tmp: Path | None = None) -> tuple[ServiceDesk, str]:
    """A desk with CASE-0001 (contact kim@customer.test) and its ack recorded as sent."""
    clock = FrozenClock()
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             blobs=None if tmp is None else FileBlobStore(tmp))
    case_id = desk.ingest_mail(SEED).case_id or ""
    with desk.store.unit_of_work("acme") as uow:
        mail_ledger(uow).record(MailRecord("seed.ack@support.test", "out", case_id,
                                           "kim@customer.test", "sent", "ack", clock.now()))
        uow.commit()
    return desk, case_id


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str, tmp_path: Path) -> None:
    desk, case_id = seeded(tmp_path)
    want = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    address = KEYS.address("acme", case_id, "CASE-0001", "support.test", desk.clock.now())
    raw = raw.replace(b"{CASE_ADDRESS}", address.encode())
    out = desk.ingest_mail(raw)
    assert out.decision is not None
    assert (out.outcome, out.decision.via) == (want["outcome"], want["via"]), out.decision
    assert out.decision.confidence > 0 and out.decision.reason
    if want["outcome"] in ("reply", "held"):
        assert out.case_id == case_id
    case = desk.get_case(out.case_id, actor=AGENT) if out.case_id else None
    if "text" in want:
        assert case is not None
        text = (case.description if want["outcome"] == "new"
                else [e.body for e in case.timeline if e.kind == "reply"][-1])
        assert text.replace("\r\n", "\n") == str(want["text"]).replace("\r\n", "\n")
    if "attachments" in want:
        assert case is not None
        assert [a.name for a in case.attachments] == want["attachments"]
    if "subject" in want:
        assert case is not None and case.subject == want["subject"]
    if want["outcome"] == "drop":
        seed = desk.get_case(case_id, actor=AGENT)
        assert [e.kind for e in seed.timeline].count("reply") == 0
    assert desk.ingest_mail(raw).outcome == "duplicate"


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_addr = st.sampled_from(["eve@x.test", "bob@example.com", "not-an-address", "", "<>",
                         "case-0001@support.test", "a@b"])
_token = st.from_regex(r"case-0001\+[a-z0-9]{1,3}\.[0-9a-z]{1,4}\.[a-z2-7]{16,26}",
                       fullmatch=True)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers = {
        "From": draw(_addr),
        "To": draw(st.one_of(_addr, _token.map(lambda t: f"{t}@support.test"))),
        "Subject": draw(st.one_of(_text, st.just("Re: CASE-0001"))),
        "Message-ID": draw(st.one_of(st.just(""), _text.map(lambda t: f"<{t}>"))),
        "In-Reply-To": draw(st.one_of(st.just(""), st.just("<nope@x>"), _text)),
        "Content-Type": draw(st.sampled_from(
            ["text/plain; charset=utf-8", "text/html; charset=bogus", "multipart/mixed",
             "multipart/report; report-type=delivery-status", "text/plain; charset=shift_jis",
             ""])),
        "Auto-Submitted": draw(st.sampled_from(["", "no", "auto-replied"])),
    }
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if v and "\n" not in v
                   and "\r" not in v)
    body = draw(st.binary(max_size=200))
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.one_of(messages(), st.binary(max_size=300)))
def test_built_messages_only_raise_caselib_errors_and_never_post(raw: bytes) -> None:
    desk, case_id = seeded()
    before = desk.get_case(case_id, actor=AGENT)
    try:
        out = desk.ingest_mail(raw)
    except CaselibError:
        return
    after = desk.get_case(case_id, actor=AGENT)
    assert out.case_id != case_id or out.outcome in ("drop", "duplicate")
    assert len(after.timeline) == len(before.timeline)


def test_cli_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cases.db"
    assert _ingest(monkeypatch, SEED, db, "--create") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "new" and doc["message_id"] == "seed@customer.test"
    assert _ingest(monkeypatch, SEED, db) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "duplicate"
    assert _ingest(monkeypatch, b"garbage", db) == 2


def test_cli_ingest_defers_mail_for_a_store_that_is_not_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped --db made a new, empty store and the mail went where nobody reads; now a
    missing file (without --create) or a database that is not a caselib store defers the
    message (75: the MTA keeps it) and writes nothing."""
    typo = tmp_path / "csaes.db"
    assert _ingest(monkeypatch, SEED, typo) == 75
    err = capsys.readouterr().err
    assert "no store at" in err and "--create" in err and "retries" in err
    assert not typo.exists()

    other = tmp_path / "crm.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY)")
    conn.close()
    for extra in ([], ["--create"]):
        assert _ingest(monkeypatch, SEED, other, *extra) == 75
        assert "not a caselib store" in capsys.readouterr().err
    with sqlite3.connect(other) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert tables == ["contacts"]


def test_cli_ingest_create_takes_an_empty_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An empty file at --db (made beforehand with the mail user as its owner, as an MTA
    setup does) is no store yet: --create makes the store in it, where it deferred every
    message for good ('not a caselib store')."""
    db = tmp_path / "cases.db"
    db.touch()
    assert _ingest(monkeypatch, SEED, db, "--create") == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "new"


@pytest.mark.parametrize("spec", ["bogus", "k1:zz", ":00112233", "k1:" + "ab" * 16 + ",k0:"])
def test_cli_ingest_names_a_malformed_key_setting(
        spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A bad CASELIB_REPLY_KEYS says which entry and the form it needs (it was a bare
    'not enough values to unpack'), and defers the message (75) before touching the store."""
    monkeypatch.setenv("CASELIB_REPLY_KEYS", spec)
    db = tmp_path / "cases.db"
    assert _ingest(monkeypatch, SEED, db) == 75
    err = capsys.readouterr().err
    assert "CASELIB_REPLY_KEYS entry" in err and "'kid:hexsecret'" in err and "retries" in err
    assert not db.exists()


def test_reply_keys_setting_reads_every_key_and_signs_with_the_first() -> None:
    from caselib.cli.mail import reply_keys

    assert reply_keys("") is None and reply_keys(" , ") is None
    keys = reply_keys(f"k2:{'cd' * 16}, k1:{'ab' * 16}")
    assert keys is not None and keys.current == "k2"
    assert dict(keys.keys) == {"k2": bytes.fromhex("cd" * 16), "k1": bytes.fromhex("ab" * 16)}


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


def _ingest(monkeypatch: pytest.MonkeyPatch, raw: bytes, db: Path, *extra: str) -> int:
    """`caselib mail ingest --db DB --tenant acme EXTRA…` with ``raw`` on stdin: its exit."""
    from caselib.cli import main

    monkeypatch.setattr("sys.stdin", _Stdin(raw))
    return main(["mail", "ingest", "--db", str(db), "--tenant", "acme", *extra,
                 "--support-address", "help@support.test"])
