"""URL slugs from titles."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def slugify(title: str, separator: str = "-", max_length: int | None = None) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore")
    slug = _SEPARATORS.sub(separator, ascii_title.decode().lower()).strip(separator)
    if max_length is not None and len(slug) > max_length:
        slug = slug[:max_length].rstrip(separator)
    return slug


def unique_slug(title: str, taken: set[str], separator: str | None = None) -> str:
    sep = "-" if separator is None else separator
    base = slugify(title, sep)
    if not base:
        raise ValueError("the title has no letters or digits left")
    candidate = base
    counter = 2
    while candidate in taken:
        candidate = f"{base}{sep}{counter}"
        counter += 1
    return candidate
