"""Concrete parts that plug into caselib's ports from outside the domain: for now the
``semantic`` extra's embedder and vector index (:mod:`caselib.adapters.embeddings`).

Importing this package imports no third-party module; numpy and the bundled model are loaded
when an adapter is constructed.
"""

from __future__ import annotations

from caselib.adapters.embeddings import (
    MINILM,
    MiniLmEmbedder,
    NumpyVectors,
    WordPiece,
    minilm_path,
)

__all__ = [
    "MINILM",
    "MiniLmEmbedder",
    "NumpyVectors",
    "WordPiece",
    "minilm_path",
]
