"""caselib.mail: parsing, trimming, signed reply addresses, the resolver and the guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from caselib.errors import CaselibError, InvalidConfiguration, InvalidInput
from caselib.mail import (
    MailPolicy,
    ReplyKeys,
    ThreadResolver,
    automatic_reason,
    html_to_text,
    parse_mail,
    parse_reply_address,
    reopen_allowed,
    trim_reply,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEYS = ReplyKeys({"k1": b"k1-secret-0123456789", "k2": b"k2-secret-0123456789"}, "k2")


class Facts:
    def __init__(self, cases: dict[str, str], sent: dict[str, str] | None = None,
                 contacts: dict[str, str] | None = None) -> None:
        self.cases, self.sent, self.contacts = cases, sent or {}, contacts or {}

    def case_by_number(self, number: str) -> str | None:
        return self.cases.get(number.upper())

    def case_by_message_ids(self, ids: tuple[str, ...]) -> str | None:
        return next((self.sent[i] for i in ids if i in self.sent), None)

    def is_contact(self, case_id: str, address: str) -> bool:
        return self.contacts.get(case_id) == address


def mail(headers: str, body: str = "Hello\n") -> bytes:
    return (headers.strip() + "\n\n" + body).replace("\n", "\r\n").encode()


def test_plain_reply_trims_quote_and_signature() -> None:
    raw = mail("From: Bo <BO@Example.com>\nTo: help@support.test\nSubject: Re: x\n"
               "Message-ID: <A1@mx.test>\nIn-Reply-To: <s1@caselib>\n"
               "References: <s0@c> <s1@caselib>",
               "Thanks, it works.\n\n-- \nBo\n\nOn Mon, 2 Mar 2026 Ana wrote:\n> old\n")
    parsed = parse_mail(raw)
    assert parsed.sender == "bo@example.com" and parsed.sender_name == "Bo"
    assert parsed.message_id == "a1@mx.test"
    assert parsed.thread_ids == ("s1@caselib", "s0@c")
    assert parsed.text == "Thanks, it works."
    assert "old" in parsed.full_text


def test_outlook_block_and_html_only() -> None:
    assert trim_reply("Fine.\n\n________________________________\nFrom: Ana\nSent: x\n") == "Fine."
    body = ("<html><style>p{}</style><body><p>Hi&nbsp;there</p><div>line 2</div>"
            "<blockquote>quoted</blockquote></body></html>")
    raw = mail("From: a@b.test\nTo: s@s.test\nSubject: h\nMIME-Version: 1.0\n"
               "Content-Type: text/html; charset=utf-8", body)
    parsed = parse_mail(raw)
    assert parsed.text == "Hi there\n\nline 2"
    assert "quoted" in parsed.full_text
    assert html_to_text("<script>x</script>a<br>b") == "a\nb"


@pytest.mark.parametrize(("charset", "text"), [
    ("iso-8859-1", "Grüße"), ("windows-1252", "naïve €"), ("shift_jis", "こんにちは"),
    ("koi8-r", "Привет")])
def test_charsets(charset: str, text: str) -> None:
    raw = (f"From: a@b.test\r\nTo: s@s.test\r\nSubject: c\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset={charset}\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + text.encode(charset)
    assert parse_mail(raw).text == text


def test_multipart_attachment_and_missing_message_id() -> None:
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"] = "a@b.test"
    msg["To"] = "s@s.test"
    msg["Subject"] = "photo"
    msg.set_content("See attached")
    msg.add_alternative("<p>See attached</p>", subtype="html")
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="dent.png")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.text == "See attached"
    assert [(a.name, a.content_type, a.data) for a in parsed.attachments] == [
        ("dent.png", "image/png", b"\x89PNG...")]
    assert parsed.message_id.endswith("@no-message-id.invalid")
    assert parse_mail(msg.as_bytes()).message_id == parsed.message_id  # stable


@pytest.mark.parametrize("raw", [b"", b"garbage", b"To: x@y\r\n\r\nno sender", "str"])
def test_bad_input_is_invalid_input(raw: object) -> None:
    with pytest.raises(InvalidInput):
        parse_mail(raw)  # type: ignore[arg-type]


def test_token_round_trip_and_refusals() -> None:
    address = KEYS.address("acme", "case-id-1", "CASE-0494", "Support.Test", NOW)
    assert address.startswith("case-0494+k2.") and address.endswith("@support.test")
    parsed = parse_reply_address(address)
    assert parsed is not None and KEYS.check(parsed, "acme", "case-id-1", NOW).ok
    # another case / another tenant
    assert not KEYS.check(parsed, "acme", "case-id-2", NOW).ok
    assert not KEYS.check(parsed, "globex", "case-id-1", NOW).ok
    # re-signed with another tenant's key set using the same key id
    other = ReplyKeys({"k2": b"globex-secret-0123456"}, "k2")
    forged = parse_reply_address(other.address("acme", "case-id-1", "CASE-0494", "s.test", NOW))
    assert forged is not None and not KEYS.check(forged, "acme", "case-id-1", NOW).ok
    # a flipped character of the mac
    flipped = parse_reply_address(address.replace(parsed.mac, parsed.mac[::-1]))
    assert flipped is not None and not KEYS.check(flipped, "acme", "case-id-1", NOW).ok
    # expired
    late = KEYS.check(parsed, "acme", "case-id-1", NOW + timedelta(days=366))
    assert not late.ok and late.expired
    # rotated: an old key still verifies while in the set, not after removal
    old = parse_reply_address(ReplyKeys(KEYS.keys, "k1").address("acme", "c", "C-1", "s.t", NOW))
    assert old is not None and KEYS.check(old, "acme", "c", NOW).ok
    retired = ReplyKeys({"k2": KEYS.keys["k2"]}, "k2")
    assert not retired.check(old, "acme", "c", NOW).ok
    assert parse_reply_address("help@support.test") is None


def test_bad_key_sets() -> None:
    with pytest.raises(InvalidConfiguration):
        ReplyKeys({"k1": b"short"}, "k1")
    with pytest.raises(InvalidConfiguration):
        ReplyKeys({"k1": b"0123456789abcdefgh"}, "k9")


def test_resolver_order() -> None:
    resolver = ThreadResolver("acme", KEYS, {"support.test"})
    facts = Facts({"CASE-0494": "c494", "CASE-0007": "c7"}, {"s1@caselib": "c7"},
                  {"c7": "bo@example.com"})
    good = KEYS.address("acme", "c494", "CASE-0494", "support.test", NOW)
    # token beats thread headers
    raw = mail(f"From: bo@example.com\nTo: {good}\nSubject: Re: CASE-0007\n"
               "In-Reply-To: <s1@caselib>")
    decision = resolver.resolve(parse_mail(raw), facts, NOW)
    assert (decision.action, decision.case_id, decision.via, decision.confidence) == (
        "reply", "c494", "token", 1.0)
    # forged token: dropped even though the thread headers name another case
    local = good.split("@")[0]
    bad = local[:-6] + "aaaaaa@support.test"
    raw = mail(f"From: bo@example.com\nTo: {bad}\nIn-Reply-To: <s1@caselib>")
    decision = resolver.resolve(parse_mail(raw), facts, NOW)
    assert decision.action == "drop" and decision.case_id is None
    # thread headers
    raw = mail("From: x@y.test\nTo: help@support.test\nReferences: <zz@q> <s1@caselib>")
    decision = resolver.resolve(parse_mail(raw), facts, NOW)
    assert (decision.action, decision.case_id, decision.via) == ("reply", "c7", "thread")
    # subject from the contact only
    raw = mail("From: bo@example.com\nTo: help@support.test\nSubject: about CASE-0007")
    assert resolver.resolve(parse_mail(raw), facts, NOW).via == "subject"
    raw = mail("From: eve@evil.test\nTo: help@support.test\nSubject: about CASE-0007")
    assert resolver.resolve(parse_mail(raw), facts, NOW).action == "new"
    # expired token: a new case, not the old one
    old = KEYS.address("acme", "c494", "CASE-0494", "support.test", NOW - timedelta(days=400))
    decision = resolver.resolve(parse_mail(mail(f"From: b@e.test\nTo: {old}")), facts, NOW)
    assert decision.action == "new" and decision.case_id is None


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied", "Precedence: bulk", "Precedence: junk", "Precedence: list",
    "X-Auto-Response-Suppress: All", "List-Id: <news.example.com>", "Subject: Out of Office: x",
    "Subject: Automatic reply: hello"])
def test_automatic_mail_is_dropped(header: str) -> None:
    subject = "" if header.startswith("Subject") else "Subject: hi\n"
    parsed = parse_mail(mail(f"From: a@b.test\nTo: s@s.test\n{subject}{header}"))
    assert automatic_reason(parsed) is not None
    decision = ThreadResolver("acme", KEYS).resolve(parsed, Facts({}), NOW)
    assert decision.action == "drop" and decision.automatic


def test_human_mail_is_not_automatic() -> None:
    parsed = parse_mail(mail("From: a@b.test\nTo: s@s.test\nSubject: hi\nAuto-Submitted: no"))
    assert automatic_reason(parsed) is None


def test_reopen_limits() -> None:
    policy = MailPolicy(reopens_per_case=2, reopens_per_sender=3)
    assert reopen_allowed(policy, case_reopens=1, sender_reopens=2)
    assert not reopen_allowed(policy, case_reopens=2, sender_reopens=0)
    assert not reopen_allowed(policy, case_reopens=0, sender_reopens=3)
    with pytest.raises(InvalidConfiguration):
        MailPolicy(reopen="sometimes")  # type: ignore[arg-type]
    assert issubclass(InvalidConfiguration, CaselibError)
