"""Knowledge-base articles: the article value, its editorial status and their validation.

Validation happens once, when an :class:`Article` is built, so the index, the article stores
and the desk can all trust its fields; this module knows nothing of indexing or scoring.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.checks import require_str, require_strs, storable
from caselib.errors import InvalidInput, TextTooLong, UnknownValue, WrongType
from caselib.timeutil import aware_utc

__all__ = [
    "Article",
    "ArticleStatus",
    "MAX_ARTICLE_BODY",
    "MAX_ARTICLE_TITLE",
]

MAX_ARTICLE_TITLE: Final = 500
MAX_ARTICLE_BODY: Final = 200_000
_MAX_ID: Final = 200
_MAX_TAGS: Final = 50
_MAX_TAG: Final = 100


# --- articles --------------------------------------------------------------------------------


class ArticleStatus(enum.StrEnum):
    """Where an article is in its editorial life. Only ``published`` articles are suggested."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


def _status(value: object) -> ArticleStatus:
    if isinstance(value, ArticleStatus):
        return value
    try:
        return ArticleStatus(str(value))
    except ValueError:
        raise UnknownValue("status", value, [s.value for s in ArticleStatus]) from None


def _tags(value: Iterable[str]) -> tuple[str, ...]:
    require_strs(value, "tags")  # a lone string would be split into letters
    seen: dict[str, None] = {}
    for tag in value:
        if not require_str(tag, "tags", "a list of strings").strip():
            raise InvalidInput(f"tags must be non-empty strings, got {tag!r}", field="tags")
        if len(tag) > _MAX_TAG:
            raise TextTooLong("tag", len(tag), _MAX_TAG)
        seen.setdefault(tag.strip(), None)
    if len(seen) > _MAX_TAGS:
        raise InvalidInput(f"at most {_MAX_TAGS} tags per article", field="tags")
    return tuple(seen)


def _category(value: str | None) -> str | None:
    if value is None:
        return None
    return require_str(value, "category", "a string or None").strip() or None


def _updated_at(value: datetime) -> datetime:
    return aware_utc(value, "updated_at")


def _check_text(field: str, limit: int) -> Callable[[Any, attrs.Attribute[str], str], None]:
    def check(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str):
            raise WrongType(field, "a string", value)
        storable(value, field)
        if len(value) > limit:
            raise TextTooLong(field, len(value), limit)

    return check


def _check_id(_inst: Any, _attr: attrs.Attribute[str], value: str) -> None:
    if not require_str(value, "id", "a non-empty string").strip():
        raise InvalidInput("article id must be a non-empty string", field="id")
    if len(value) > _MAX_ID:
        raise TextTooLong("id", len(value), _MAX_ID)


@attrs.frozen(kw_only=True)
class Article:
    """A knowledge-base article as the index sees it.

    Validation happens here, once, so the index can trust every field: an empty id, text over
    the limits, a naive ``updated_at`` or an unknown status raise :class:`InvalidInput`.
    Tags are de-duplicated keeping their order; an empty category means "no category".
    """

    id: str = attrs.field(validator=_check_id)
    title: str = attrs.field(validator=_check_text("title", MAX_ARTICLE_TITLE))
    body: str = attrs.field(default="", validator=_check_text("body", MAX_ARTICLE_BODY))
    category: str | None = attrs.field(default=None, converter=_category)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    status: ArticleStatus = attrs.field(default=ArticleStatus.PUBLISHED, converter=_status)
    locale: str = attrs.field(default="en", validator=_check_text("locale", 35))
    updated_at: datetime = attrs.field(converter=_updated_at)
