"""Text search over cases: one tokeniser every store shares, so they return the same cases.

The query syntax (:class:`SearchText`): words, AND-ed. A word matches a case when one of the
case's *terms* equals it; a word ending in ``*`` matches any term that starts with it
(``inv*`` finds "invoice" and "invoicing"). Everything that is not a letter or a digit
separates words and is otherwise ignored, so ``"CASE-0042"`` is the two words ``case`` and
``0042`` (both must be present: the case numbered CASE-0042 has them).

A case's terms (:func:`search_terms`) are the words of its number, subject and description,
split the same way. Matching is case-insensitive (both sides are case-folded with
:meth:`str.casefold`, so ``Straße`` finds ``STRASSE``), accent-sensitive (``café`` is not
``cafe``) and without stemming (``invoices`` is not ``invoice``; write ``invoice*``).

Why the tokenising happens here and not in each database: SQLite's FTS5 tokenisers and
PostgreSQL's text-search parser split and fold text each in their own way (FTS5's
``unicode61`` strips accents by default; PostgreSQL's parser indexes ``foo-bar`` whole
beside its parts and keeps e-mail addresses and URLs whole), so a search would find
different cases on different stores. Instead every store is given the terms made here:
SQLite indexes them with FTS5's ``ascii`` tokeniser, which splits only at the spaces that
join them, and PostgreSQL builds its ``tsvector`` from the term array verbatim
(``array_to_tsvector``); the memory store compares the same terms in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import attrs

from caselib.errors import InvalidInput

__all__ = [
    "MAX_SEARCH_WORDS",
    "MAX_TERM_LENGTH",
    "SearchText",
    "search_terms",
]

MAX_TERM_LENGTH: Final = 64
"""Terms (and search words) are cut to this many characters: a longer run of letters is no
word anyone types, and it keeps every term within the index limits of both databases."""

MAX_SEARCH_WORDS: Final = 16
"""The most words one search may have (each is one index lookup)."""

_WORD: Final = re.compile(r"[^\W_]+")
"""A maximal run of letters and digits (Unicode ``isalnum``); the rest separates."""
_QUERY_WORD: Final = re.compile(r"([^\W_]+)(\*?)")


def _words(text: str) -> Iterable[str]:
    return (w[:MAX_TERM_LENGTH] for w in _WORD.findall(text.casefold()))


def search_terms(number: str, subject: str, description: str) -> tuple[str, ...]:
    """The distinct terms a case is found by, sorted: the words of its number, subject and
    description (see the module docstring for how text is split and folded)."""
    return tuple(sorted({*_words(number), *_words(subject), *_words(description)}))


@attrs.frozen
class SearchText:
    """A parsed search: its whole words and its prefixes (words written with a trailing
    ``*``), each to be found among a case's terms. Build with :meth:`parse`."""

    words: tuple[str, ...]
    prefixes: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> SearchText:
        """Split ``text`` into words as :func:`search_terms` splits a case's text.

        Raises:
            InvalidInput: ``text`` has no letter or digit (it would match every case or
                none, depending on taste), or more than :data:`MAX_SEARCH_WORDS` words.
        """
        words: set[str] = set()
        prefixes: set[str] = set()
        for m in _QUERY_WORD.finditer(text.casefold()):
            word = m.group(1)[:MAX_TERM_LENGTH]
            (prefixes if m.group(2) else words).add(word)
        if not words and not prefixes:
            raise InvalidInput("a text search needs at least one letter or digit; leave text "
                               "out (None) to list every case", field="text")
        if len(words) + len(prefixes) > MAX_SEARCH_WORDS:
            raise InvalidInput(f"a text search takes at most {MAX_SEARCH_WORDS} words",
                               field="text")
        prefixes -= {p for p in prefixes if p in words}  # "inv inv*" is "inv"
        return cls(tuple(sorted(words)), tuple(sorted(prefixes)))

    def matches(self, terms: Iterable[str]) -> bool:
        """Whether a case with these terms is found: every word is one of them and every
        prefix starts one of them (the reference every store mirrors)."""
        have = frozenset(terms)
        return all(w in have for w in self.words) and all(
            any(t.startswith(p) for t in have) for p in self.prefixes)

    def fts5(self) -> str:
        """The search as an FTS5 MATCH expression over terms indexed with the ``ascii``
        tokeniser: quoted words, prefixes with ``*``, AND-ed."""
        return " ".join([*(f'"{w}"' for w in self.words), *(f'"{p}"*' for p in self.prefixes)])

    def tsquery(self) -> str:
        """The search as PostgreSQL ``tsquery`` text (cast with ``::tsquery``, which keeps
        quoted lexemes verbatim): quoted words, prefixes with ``:*``, AND-ed with ``&``."""
        return " & ".join([*(f"'{w}'" for w in self.words),
                           *(f"'{p}':*" for p in self.prefixes)])
