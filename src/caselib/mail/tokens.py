"""Signed per-case reply addresses: ``case-0494+<token>@support.example.com``.

The token is ``<key id>.<issued day>.<mac>``: an HMAC-SHA256 over the tenant, the case id,
the key id and the issue day, with one key of a rotating :class:`ReplyKeys` set. Replies
to it reach only the case it was made for in the tenant it was made in: a guessed or edited
token, one signed with another tenant's key, one whose key was retired from the set or one
older than ``max_age`` is refused. The case number in the local part is only for people to
read and for the desk to find the case; the MAC is what is trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs

from caselib.checks import require_mapping
from caselib.errors import InvalidConfiguration, WrongType

__all__ = ["ReplyAddress", "ReplyKeys", "TokenCheck", "parse_reply_address"]

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_KEY_ID = re.compile(r"^[a-z0-9]{1,8}$")
_ADDRESS = re.compile(
    r"^(?P<number>[a-z0-9][a-z0-9_-]{0,40})\+(?P<kid>[a-z0-9]{1,8})\.(?P<day>[0-9a-z]{1,6})"
    r"\.(?P<mac>[a-z2-7]{16,32})@(?P<domain>[^@\s]+)$")


def _check_keys(_: object, __: object, keys: object) -> None:
    if not require_mapping(keys, "keys"):
        raise InvalidConfiguration("ReplyKeys needs at least one key")
    for kid, secret in require_mapping(keys, "keys").items():
        if not isinstance(kid, str) or not _KEY_ID.match(kid):
            raise InvalidConfiguration(
                f"reply key id {kid!r}: use 1-8 lower-case letters or digits")
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise InvalidConfiguration(f"reply key {kid!r}: use at least 16 random bytes")


@attrs.frozen
class ReplyKeys:
    """The tenant's signing keys: ``current`` signs, every key in ``keys`` verifies (rotate
    by adding a key, making it current, and dropping the old one after ``max_age``)."""

    keys: Mapping[str, bytes] = attrs.field(validator=_check_keys, repr=False)
    current: str
    max_age: timedelta = timedelta(days=365)

    def __attrs_post_init__(self) -> None:
        if self.current not in self.keys:
            raise InvalidConfiguration(f"the current reply key {self.current!r} is not "
                                       "among the keys")
        if not isinstance(self.max_age, timedelta):
            raise WrongType("max_age", "a timedelta (e.g. timedelta(days=365))", self.max_age)
        if self.max_age <= timedelta(0):
            raise InvalidConfiguration("ReplyKeys.max_age must be positive")

    @staticmethod
    def _mac(secret: bytes, tenant: str, case_id: str, kid: str, day: str) -> str:
        digest = hmac.new(secret, "\x00".join((tenant, case_id, kid, day)).encode(),
                          hashlib.sha256).digest()
        return base64.b32encode(digest[:15]).decode().lower()  # 120 bits, 24 characters

    def token(self, tenant: str, case_id: str, now: datetime) -> str:
        """A token for ``case_id`` of ``tenant``, issued ``now``."""
        day = _b36(max(0, (now - _EPOCH).days))
        kid = self.current
        return f"{kid}.{day}.{self._mac(self.keys[kid], tenant, case_id, kid, day)}"

    def address(self, tenant: str, case_id: str, number: str, domain: str,
                now: datetime) -> str:
        """The reply address of a case: ``<number>+<token>@<domain>``."""
        return f"{number.lower()}+{self.token(tenant, case_id, now)}@{domain.lower()}"

    def check(self, address: ReplyAddress, tenant: str, case_id: str, now: datetime
              ) -> TokenCheck:
        """Whether ``address`` was signed for ``case_id`` of ``tenant`` by a key of this set
        and is not older than ``max_age``."""
        secret = self.keys.get(address.key_id)
        if secret is None:
            return TokenCheck(False, "unknown or retired key id")
        expected = self._mac(secret, tenant, case_id, address.key_id, address.day)
        if not hmac.compare_digest(expected, address.mac):
            return TokenCheck(False, "signature does not match this case and tenant")
        issued = _EPOCH + timedelta(days=int(address.day, 36))
        if now - issued > self.max_age:
            return TokenCheck(False, "token expired", expired=True)
        if issued - now > timedelta(days=1):
            return TokenCheck(False, "token issued in the future")
        return TokenCheck(True, "signed reply address")


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@attrs.frozen
class TokenCheck:
    """The verdict on a token: ``ok``, and why."""

    ok: bool
    reason: str
    expired: bool = False


@attrs.frozen
class ReplyAddress:
    """A recipient that looks like a signed case address (not yet verified)."""

    number: str
    key_id: str
    day: str
    mac: str
    domain: str


def parse_reply_address(address: str) -> ReplyAddress | None:
    """The parts of ``case-0494+k1.2kq.<mac>@domain``, or ``None`` if it is not one."""
    found = _ADDRESS.match(address.strip().lower())
    if found is None:
        return None
    return ReplyAddress(found["number"], found["kid"], found["day"], found["mac"],
                        found["domain"])
