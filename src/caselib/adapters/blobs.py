"""Attachment bytes on the filesystem: :class:`FileBlobStore`, a
:class:`~caselib.ports.BlobStore` keeping each blob once under its SHA-256
(``<root>/ab/cdef…``), written to a temporary name and renamed so a reader never sees half
a file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["FileBlobStore"]


class FileBlobStore:
    """Content-addressed blobs under ``root`` (created if missing)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """Where the blob ``key`` lives."""
        digest = key.removeprefix("sha256:")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes, *, name: str, content_type: str) -> str:
        """Store ``data`` (once per content) and return its key ``sha256:<hex>``."""
        key = "sha256:" + hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        return key

    def get(self, key: str) -> bytes:
        """The bytes of blob ``key``."""
        return self.path(key).read_bytes()
