"""Text analysis for the knowledge-base index: folding, tokens, stop words, stemming.

The analyzer turns an article or a customer's wording into index terms. It is deliberately
small and deterministic: the same text gives the same terms on every machine, whatever else
happens to be installed, so that suggestion rankings do not shift when a host adds a package.

That is why the default stemmer is :func:`porter2`, a pure-Python implementation of the
English (Porter2) Snowball algorithm shipped with caselib. The ``snowballstemmer`` package
(extra ``caselib-engine[stem]``) can be chosen explicitly with ``stemmer="snowball"``; it
implements a newer revision of the same algorithm and agrees on the vast majority of words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Final, Literal

from caselib.errors import InvalidConfiguration

__all__ = [
    "ENGLISH_STOP_WORDS",
    "MAX_TOKEN_LENGTH",
    "Analyzer",
    "StemmerName",
    "fold",
    "porter2",
]

StemmerName = Literal["porter2", "snowball", "none"]

#: Tokens longer than this are dropped: they are hashes, base64 or URLs glued together, never
#: something a customer and an article author would both write.
MAX_TOKEN_LENGTH: Final = 40

#: English function words, minus the particles, negations and quantifiers that change what a
#: support request means ("sign in" vs "sign out", "not received", "turn off", "all pages").
#: Larger than Lucene's 33-word list because support text is conversational ("how do I", "can
#: you", "my", "it's"). Chosen on StackFAQ half A only (MRR@10 0.848 with the full list, 0.854
#: with the particles kept).
_STOP_TEXT: Final = """
    a about am an and any are aren as at be because been being both but by can cannot could
    couldn d did didn do does doesn doing don during each for from further had hadn has hasn
    have haven having he her here hers herself him himself his how i if in into is isn it its
    itself just ll m me most my myself now of on or ought our ours ourselves re s shan she
    should shouldn so some such t than that the their theirs them themselves then there these
    they this those through to too until ve very was wasn we were weren what when where which
    while who whom why will with won would wouldn you your yours yourself yourselves
"""
ENGLISH_STOP_WORDS: Final[frozenset[str]] = frozenset(_STOP_TEXT.split())

# Combining marks left over after NFKD decomposition (accents, cedillas, umlauts …).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters and digits; the underscore is a separator ("reset_password" -> reset, password).
_TOKEN = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Casefold and strip accents so "Café", "CAFE" and "café" meet in one term.

    NFKD also maps compatibility forms (ligatures, full-width letters) onto plain letters.
    ASCII text takes a fast path because it is by far the common case.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _COMBINING.sub("", decomposed)


# --- Porter2 ---------------------------------------------------------------------------------

_VOWELS: Final = frozenset("aeiouy")
_DOUBLES: Final = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDINGS: Final = frozenset("cdeghkmnrt")
_EXCEPTIONS: Final = {
    "skis": "ski",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}
_EXCEPTIONS_1A: Final = frozenset(
    ["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"]
)
# Snowball 3 widened the original three prefixes; matching it keeps "organize" apart from "organ".
_R1_PREFIXES: Final = (
    "gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter",
)  # fmt: skip
_STEP2: Final = (
    ("ization", "ize"),
    ("ational", "ate"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("iveness", "ive"),
    ("tional", "tion"),
    ("biliti", "ble"),
    ("lessli", "less"),
    ("entli", "ent"),
    ("ation", "ate"),
    ("alism", "al"),
    ("aliti", "al"),
    ("ousli", "ous"),
    ("iviti", "ive"),
    ("fulli", "ful"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("abli", "able"),
    ("izer", "ize"),
    ("ator", "ate"),
    ("alli", "al"),
    ("bli", "ble"),
    ("ogi", "og"),
    ("li", ""),
)
_STEP3: Final = (
    ("ational", "ate"),
    ("tional", "tion"),
    ("alize", "al"),
    ("icate", "ic"),
    ("iciti", "ic"),
    ("ative", ""),
    ("ical", "ic"),
    ("ness", ""),
    ("ful", ""),
)
_STEP4: Final = (
    "ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous",
    "ive", "ize", "ion", "al", "er", "ic",
)  # fmt: skip


def _is_vowel(word: str, i: int) -> bool:
    return word[i] in _VOWELS


def _regions(word: str) -> tuple[int, int]:
    """Start of R1 and R2: the region after the first non-vowel following a vowel."""

    def after(start: int) -> int:
        for i in range(start + 1, len(word)):
            if word[i] not in _VOWELS and word[i - 1] in _VOWELS:
                return i + 1
        return len(word)

    r1 = next((len(p) for p in _R1_PREFIXES if word.startswith(p)), -1)
    if r1 < 0:
        r1 = after(0)
    return r1, after(r1) if r1 < len(word) else len(word)


def _short_syllable_at_end(word: str) -> bool:
    n = len(word)
    if n == 2:
        return word[0] in _VOWELS and word[1] not in _VOWELS
    if n >= 3:
        return (
            word[-3] not in _VOWELS
            and word[-2] in _VOWELS
            and word[-1] not in _VOWELS
            and word[-1] not in "wxY"
        )
    return False


def _has_vowel(part: str) -> bool:
    return any(c in _VOWELS for c in part)


def porter2(word: str) -> str:
    """Stem one lower-case English word with the Porter2 (Snowball English) algorithm.

    Written from the published algorithm description so that caselib needs no dependency for
    good English matching ("refunds", "refunded", "refunding" -> "refund").

    >>> [porter2(w) for w in ("refunds", "refunded", "cancellation", "passwords", "running")]
    ['refund', 'refund', 'cancel', 'password', 'run']
    """
    if len(word) <= 2:
        return word
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    if word[0] == "'":
        word = word[1:]
    if word.startswith("y"):
        word = "Y" + word[1:]
    chars = list(word)
    for i in range(1, len(chars)):
        if chars[i] == "y" and chars[i - 1] in _VOWELS:
            chars[i] = "Y"
    word = "".join(chars)
    r1, r2 = _regions(word)

    # Step 0: possessives.
    for suffix in ("'s'", "'s", "'"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break

    # Step 1a: plurals.
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("ied", "ies")):
        word = word[:-2] if len(word) > 4 else word[:-1]
    elif word.endswith(("us", "ss")):
        pass
    elif word.endswith("s") and _has_vowel(word[:-2]):
        word = word[:-1]

    if word in _EXCEPTIONS_1A:
        return word

    # Step 1b: past tense and gerunds.
    if word.endswith(("eedly", "eed")):
        suffix = "eedly" if word.endswith("eedly") else "eed"
        if len(word) - len(suffix) >= r1:
            word = word[: -len(suffix)] + "ee"
    else:
        for suffix in ("ingly", "edly", "ing", "ed"):
            if word.endswith(suffix):
                stem = word[: -len(suffix)]
                if _has_vowel(stem):
                    word = stem
                    if word.endswith(("at", "bl", "iz")):
                        word += "e"
                    elif word.endswith(_DOUBLES) and not (len(word) == 3 and word[0] in _VOWELS):
                        # "added" -> "add", not "ad" (as Snowball 3 does).
                        word = word[:-1]
                    elif r1 >= len(word) and _short_syllable_at_end(word):
                        word += "e"
                break

    # Step 1c: y -> i after a consonant that is not the first letter.
    if len(word) > 2 and word[-1] in "yY" and word[-2] not in _VOWELS:
        word = word[:-1] + "i"

    # Step 2.
    for suffix, replacement in _STEP2:
        if word.endswith(suffix):
            if len(word) - len(suffix) >= r1:
                if suffix == "ogi":
                    if word[-4:-3] == "l":
                        word = word[:-1]
                elif suffix == "li":
                    if word[-3:-2] in _LI_ENDINGS and len(word) >= 3:
                        word = word[:-2]
                else:
                    word = word[: -len(suffix)] + replacement
            break

    # Step 3.
    for suffix, replacement in _STEP3:
        if word.endswith(suffix):
            if len(word) - len(suffix) >= r1:
                if suffix == "ative":
                    if len(word) - len(suffix) >= r2:
                        word = word[:-5]
                else:
                    word = word[: -len(suffix)] + replacement
            break

    # Step 4.
    for suffix in _STEP4:
        if word.endswith(suffix):
            if len(word) - len(suffix) >= r2:
                if suffix == "ion":
                    if word[-4:-3] in ("s", "t"):
                        word = word[:-3]
                else:
                    word = word[: -len(suffix)]
            break

    # Step 5.
    if word.endswith("e"):
        base = word[:-1]
        if len(base) >= r2 or (len(base) >= r1 and not _short_syllable_at_end(base)):
            word = base
    elif word.endswith("ll") and len(word) - 1 >= r2:
        word = word[:-1]

    return word.replace("Y", "y")


def _snowball() -> Callable[[str], str]:
    try:
        import snowballstemmer  # optional extra: imported only when chosen
    except ImportError as err:
        raise InvalidConfiguration(
            "stemmer='snowball' needs the snowballstemmer package: "
            "pip install 'caselib-engine[stem]' (or use the built-in stemmer='porter2')"
        ) from err
    stemmer = snowballstemmer.stemmer("english")

    def stem(word: str) -> str:
        result: str = stemmer.stemWord(word)
        return result

    return stem


class Analyzer:
    """Turn text into index terms: fold, split, drop stop words, stem.

    Stemming is the expensive step in pure Python, and support text repeats a small vocabulary
    endlessly, so stems are memoised per analyzer (bounded, cleared when full).

    >>> Analyzer().terms("Refunds aren't showing on my Café invoices")
    ['refund', 'show', 'cafe', 'invoic']
    """

    _CACHE_LIMIT: Final = 200_000

    def __init__(
        self,
        *,
        stop_words: Iterable[str] = ENGLISH_STOP_WORDS,
        stemmer: StemmerName = "porter2",
    ) -> None:
        if stemmer == "porter2":
            self._stem: Callable[[str], str] | None = porter2
        elif stemmer == "snowball":
            self._stem = _snowball()
        elif stemmer == "none":
            self._stem = None
        else:
            raise InvalidConfiguration(
                f"unknown stemmer {stemmer!r}; expected 'porter2', 'snowball' or 'none'"
            )
        self.stemmer: StemmerName = stemmer
        # Stop words are compared after folding, so "Don't" and "don" agree with the list.
        self.stop_words = frozenset(fold(w) for w in stop_words)
        self._cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Analyzer(stemmer={self.stemmer!r}, stop_words={len(self.stop_words)})"

    def terms(self, text: str) -> list[str]:
        """Return the index terms of ``text`` in order, repeats included (they are the tf)."""
        stop = self.stop_words
        cache = self._cache
        stem = self._stem
        out: list[str] = []
        append = out.append
        for token in _TOKEN.findall(fold(text)):
            if token in stop or len(token) > MAX_TOKEN_LENGTH:
                continue
            if stem is None:
                append(token)
                continue
            term = cache.get(token)
            if term is None:
                term = stem(token)
                if len(cache) >= self._CACHE_LIMIT:
                    cache.clear()
                cache[token] = term
            append(term)
        return out
