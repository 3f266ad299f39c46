"""Concrete parts that plug into caselib's ports from outside the domain: the delivery
adapters :meth:`~caselib.ServiceDesk.deliver_pending` hands automation messages to (the SMTP
mailer and the signed-webhook poster, standard library only: ``smtplib``, ``http.client``), and
the ``semantic`` extra's embedder and vector index (:mod:`caselib.adapters.embeddings`).

Importing this package imports no third-party module; numpy and the bundled model are loaded
when an embedding adapter is constructed.
"""

from __future__ import annotations

from caselib.adapters.blobs import FileBlobStore
from caselib.adapters.embeddings import (
    MINILM,
    MiniLmEmbedder,
    NumpyVectors,
    WordPiece,
    minilm_path,
)
from caselib.adapters.imap import ImapPoller, PollReport
from caselib.adapters.smtp import SmtpMailer, build_message
from caselib.adapters.webhook import DeadLetter, HttpWebhookPoster, sign, verify

__all__ = [
    "DeadLetter",
    "FileBlobStore",
    "HttpWebhookPoster",
    "ImapPoller",
    "MINILM",
    "MiniLmEmbedder",
    "NumpyVectors",
    "PollReport",
    "SmtpMailer",
    "WordPiece",
    "build_message",
    "minilm_path",
    "sign",
    "verify",
]
