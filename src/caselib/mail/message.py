"""Parsing an inbound RFC 5322 message into a :class:`ParsedMail` with the stdlib ``email``
package (``policy=email.policy.default``; no MIME parsing by hand).

What a case timeline needs from a mail: who sent it, to which addresses, its thread headers,
a plain-text body with the quoted history and signature trimmed (the untrimmed text is kept,
so the desk stores it as an attachment record), and the attachments' bytes and names. A
malformed message raises :class:`~caselib.errors.InvalidInput`, never a parser exception.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import html
import re
from email.header import decode_header, make_header
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from typing import Any, Final

import attrs

from caselib.errors import InvalidInput

__all__ = [
    "MAX_MAIL_BYTES",
    "MailAttachment",
    "ParsedMail",
    "html_to_text",
    "parse_mail",
    "trim_reply",
]

MAX_MAIL_BYTES = 25 * 1024 * 1024
"""Larger messages are refused (most MTAs stop at 25 MB too)."""


@attrs.frozen
class MailAttachment:
    """One attached part: its bytes go to the host's blob store, its metadata to the case."""

    name: str
    content_type: str
    data: bytes = attrs.field(repr=False)

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes (the blob's content address)."""
        return hashlib.sha256(self.data).hexdigest()


@attrs.frozen
class ParsedMail:
    """What caselib reads from one message (addresses lower-cased, ids without ``<>``)."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    recipients: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    """The body as the timeline shows it: quoted history and signature trimmed."""
    full_text: str
    """The whole text body, untrimmed (kept as an attachment record when it differs)."""
    attachments: tuple[MailAttachment, ...]
    headers: tuple[tuple[str, str], ...]
    """Every header (name lower-cased, value as decoded), for the loop guards."""
    content_type: str

    def header(self, name: str) -> str:
        """The first value of header ``name`` ('' when absent)."""
        name = name.lower()
        return next((v for n, v in self.headers if n == name), "")

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """``In-Reply-To`` then ``References`` (newest first), without repeats."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


@functools.lru_cache(maxsize=4096)
def _fetch(name: str, value: str) -> object:
    return email.policy.default.header_fetch_parse(name, value)


class _Policy(EmailPolicy):
    """``email.policy.default`` whose parsed header values are memoised: the parser and
    ``get_content_type`` re-read a part's ``Content-Type`` about twenty times a message,
    and the same few values recur across messages (parsed headers are immutable)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if isinstance(value, str) and len(value) < 2000:
            return _fetch(name, value)
        return super().header_fetch_parse(name, value)


POLICY: Final = _Policy()


_ID = re.compile(r"<([^<>\s]{1,250})>")


def _ids(value: str) -> tuple[str, ...]:
    found = _ID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return tuple(i.lower() for i in found if i)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the parser defers to access time
        return ""
    return "" if value is None else str(value).strip()


def _unfold(value: object) -> str:
    return " ".join(str(value).split())


def _decoded(text: str) -> str:
    """``text`` with RFC 2047 encoded words decoded (a display name)."""
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # a broken encoded word: keep it as written
        return text


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("latin-1", errors="replace")


_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d|p|div)\b[^>]*>", re.I)
_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_QUOTE_BLOCK = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.I | re.S)


def html_to_text(markup: str, *, keep_quotes: bool = True) -> str:
    """Readable text from an HTML body: scripts and styles dropped, block ends made line
    breaks, tags removed, entities decoded (``keep_quotes=False`` drops ``<blockquote>``,
    where mail clients put the quoted history)."""
    text = _DROP.sub("", markup)
    if not keep_quotes:
        text = _QUOTE_BLOCK.sub("", text)
    text = _BLOCK.sub("\n", text)
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_HISTORY = (
    re.compile(r"^On .{0,200}wrote:\s*$"),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^Am .{0,200}schrieb .{0,200}:\s*$"),
    re.compile(r"^Le .{0,200}a écrit\s*:\s*$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above "From: …"
    re.compile(r"^From: .+$"),
    re.compile(r"^-{2,} ?Forwarded message ?-{2,}", re.I),
    re.compile(r"^Begin forwarded message:", re.I),
)
_SIGNATURE = (
    re.compile(r"^-- ?$"),
    re.compile(r"^Sent from my (iPhone|iPad|Android|mobile)", re.I),
    re.compile(r"^Get Outlook for ", re.I),
)


def trim_reply(text: str) -> str:
    """The new text of a reply: everything before the quoted history (``On … wrote:``,
    Outlook's ``From:`` block, ``>`` lines) and the signature (``-- ``, "Sent from my …").
    A message that is only a quote or a forward keeps its whole text."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if any(p.match(stripped) for p in _HISTORY) or any(
                p.match(stripped) for p in _SIGNATURE):
            break
        if stripped.startswith(">"):
            continue
        out.append(line.rstrip())
    trimmed = "\n".join(out).strip()
    return trimmed or text.strip()


def _walk(msg: Message) -> tuple[str, str, list[MailAttachment]]:
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[MailAttachment] = []
    for n, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        names = {k.lower() for k in part.keys()}  # noqa: SIM118 - names only, unparsed
        disposition = ((part.get_content_disposition() or "").lower()
                       if "content-disposition" in names else "")
        filename = part.get_filename() if disposition or ctype not in (
            "text/plain", "text/html") else None
        if disposition == "attachment" or filename or ctype not in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            if ctype == "message/rfc822" and not data:
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    data = inner[0].as_bytes(policy=email.policy.default)
            attachments.append(MailAttachment(
                str(filename or f"part-{n}").strip()[:200] or f"part-{n}", ctype, data))
        elif ctype == "text/plain":
            plain.append(_part_text(part))
        else:
            markup.append(_part_text(part))
    return "\n".join(plain), "\n".join(markup), attachments


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse ``raw`` (the message as received, headers and body) or raise
    :class:`~caselib.errors.InvalidInput` saying what is missing."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise InvalidInput("a mail must be bytes (the message as received)", field="raw")
    raw = bytes(raw)
    if len(raw) > MAX_MAIL_BYTES:
        raise InvalidInput(f"the mail is larger than {MAX_MAIL_BYTES} bytes", field="raw")
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
        # raw header values: the guards and thread headers are ASCII tokens, and parsing
        # every header through the policy's registry costs more than the rest of ingest
        headers = tuple((str(k).lower(), _unfold(v)) for k, v in msg.raw_items())
        raw_from = next((v for n, v in headers if n == "from"), "")
        sender_name, sender = parseaddr(raw_from)
        sender_name = _decoded(sender_name)
        recipients: list[str] = []
        wanted = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
        values = [v for n, v in headers if n in wanted]
        recipients.extend(a.lower() for _, a in getaddresses(values) if "@" in a)
        plain, markup, attachments = _walk(msg)
        subject = _header(msg, "Subject") if any(n == "subject" for n, _ in headers) else ""
        first = dict(reversed(headers))
        message_id = (_ids(first.get("message-id", "")) or ("",))[0]
        ctype = msg.get_content_type()
    except InvalidInput:
        raise
    except Exception as exc:  # the stdlib parser's many ways to fail on broken input
        raise InvalidInput(f"the mail could not be parsed ({type(exc).__name__}); "
                           "pass the message bytes as received", field="raw") from exc
    if "@" not in sender:
        raise InvalidInput("the mail has no sender address (From); it cannot be answered",
                           field="raw")
    if not message_id:
        digest = hashlib.sha256(raw).hexdigest()[:32]
        message_id = f"{digest}@no-message-id.invalid"
    full = plain if plain.strip() else html_to_text(markup)
    trimmed_source = plain if plain.strip() else html_to_text(markup, keep_quotes=False)
    return ParsedMail(
        message_id=message_id, sender=sender.lower(), sender_name=sender_name,
        subject=" ".join(subject.split())[:500],
        recipients=tuple(dict.fromkeys(recipients)),
        in_reply_to=_ids(first.get("in-reply-to", "")),
        references=_ids(first.get("references", "")),
        text=trim_reply(trimmed_source), full_text=full.strip(),
        attachments=tuple(attachments), headers=headers, content_type=ctype)

