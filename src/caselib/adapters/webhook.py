"""Signed webhooks over the standard library: :class:`HttpWebhookPoster`.

Why ``http.client`` and not httpx or requests: one POST of a small JSON body per message
needs a connection per host kept alive, a timeout and a status code, which the standard
library does; caselib then installs nothing for webhooks, and the retry policy (the part
that matters) is ours and tested, whatever client a host prefers.

The receiver checks ``X-Caselib-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"{timestamp}.{body}"`` under the shared secret, with ``X-Caselib-Timestamp`` (Unix
seconds) to refuse replays, and dedupes on ``Idempotency-Key``, which is the same on every
attempt. 2xx is delivered; 5xx, 408, 429, a timeout or a refused connection is retried with
exponential backoff (``base_delay`` doubling up to ``max_delay``), ``attempts`` times in all,
then dead-lettered; any other 4xx is dead-lettered at once (sending it again cannot help).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["DeadLetter", "HttpWebhookPoster", "sign", "verify"]


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Caselib-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: a correct signature over a timestamp within ``tolerance``."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@attrs.frozen
class DeadLetter:
    """A webhook given up on: where, which key, after how many tries, and the last error."""

    url: str
    key: str
    attempts: int
    error: str


class HttpWebhookPoster:
    """:class:`~caselib.ports.WebhookPoster` over ``http.client`` with keep-alive.

    ``secrets`` maps a rule's secret name to its key bytes. ``clock`` (Unix seconds) and
    ``sleep`` are injectable, so tests run the backoff without waiting.
    """

    def __init__(self, secrets: Mapping[str, bytes], *, attempts: int = 5,
                 base_delay: float = 0.5, max_delay: float = 30.0, timeout: float = 5.0,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], object] = time.sleep,
                 user_agent: str = "caselib-webhooks") -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._secrets = dict(secrets)
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._agent = user_agent
        self._local = threading.local()
        self.dead_letters: list[DeadLetter] = []

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = getattr(
            self._local, "pool", None) or {}
        self._local.pool = pool
        conn = pool.get((scheme, netloc))
        if conn is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = pool[(scheme, netloc)] = cls(netloc, timeout=self.timeout)
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        pool = getattr(self._local, "pool", {})
        conn = pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close this thread's kept-alive connections."""
        for conn in getattr(self._local, "pool", {}).values():
            conn.close()
        self._local.pool = {}

    def post(self, url: str, secret: str, body: Mapping[str, Any], key: str) -> bool:
        """POST ``body`` signed; ``True`` when delivered, ``False`` when dead-lettered."""
        if secret not in self._secrets:
            self.dead_letters.append(DeadLetter(url, key, 0, f"no secret named {secret!r}"))
            return False
        parts = urllib.parse.urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        error = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self._sleep(min(self.max_delay, self.base_delay * 2 ** (attempt - 2)))
            ts = int(self._clock())
            headers = {
                "Content-Type": "application/json", "User-Agent": self._agent,
                "Idempotency-Key": key, "X-Caselib-Timestamp": str(ts),
                "X-Caselib-Signature": sign(self._secrets[secret], ts, data),
                "X-Caselib-Attempt": str(attempt),
            }
            conn = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request("POST", path, body=data, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    self._drop(parts.scheme, parts.netloc)
            except (OSError, http.client.HTTPException) as err:  # timeouts are OSErrors
                self._drop(parts.scheme, parts.netloc)
                error = f"{type(err).__name__}: {err}"
                continue
            if 200 <= status < 300:
                return True
            error = f"HTTP {status}"
            if status < 500 and status not in (408, 429):
                self.dead_letters.append(DeadLetter(url, key, attempt, error))
                return False
        self.dead_letters.append(DeadLetter(url, key, self.attempts, error))
        return False
