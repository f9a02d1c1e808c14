"""A page's bibliographic metadata: trafilatura's own readers, without the parts the ledger never keeps.

``trafilatura.bare_extraction(with_metadata=True)`` cost about 2 ms of CPU per
page beyond the text on the bench pages (three quarters of extraction), for
three things the ledger does not use:

* htmldate's *extensive* date search: with no date in the markup it scans the
  page's free text and takes whatever date-like string it meets; on the bench
  pages it turned ``© 2026`` into ``2026-01-01``, a publication date the page
  never states. The date now comes from the page's markup only (meta tags,
  JSON-LD, ``<time>``/``<abbr>`` elements, date-classed elements, the URL), as
  htmldate finds it with ``extensive_search=False``; on the corpus pages the
  dates are the same.
* categories, tags and trafilatura's licence guess (the ledger's licence is the
  page's ``<link rel="license">``, read in ``crawler.extract``).
* a second parse: these readers take the crawler's one lxml tree of the page
  (``norms.html``), which they only read.

Title, author, site name and description are trafilatura's, read in its order
(meta tags, then JSON-LD, then the page's headings and bylines), and cleaned
as it cleans them. Pure: no I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import unescape

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.utils import line_processing

logger = logging.getLogger(__name__)
_MAX_FIELD = 10_000  # trafilatura's own cut for a metadata field


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site_name: str | None = None
    description: str | None = None


def _clean(value: object) -> str | None:
    """trafilatura's clean-up of a field (``Document.clean_and_trim``): cut, unescape, trim."""
    if not isinstance(value, str):
        return None
    if len(value) > _MAX_FIELD:
        value = value[: _MAX_FIELD - 1] + "…"
    return line_processing(unescape(value)) or None


def page_metadata(tree: HtmlElement, url: str | None) -> PageMetadata:
    """Title, author, date, site name and description of the page parsed as ``tree`` (left unchanged)."""
    found = examine_meta(tree)
    if found.author and " " not in found.author:  # a bare handle is no author's name (as trafilatura)
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    except Exception as exc:  # trafilatura's JSON-LD reader has no error contract
        logger.debug("JSON-LD metadata of %s unreadable: %s", url, exc)
    title = found.title or extract_title(tree)
    author = found.author or extract_author(tree)
    page_url = found.url or extract_url(tree, url)
    try:
        date = find_date(tree, extensive_search=False, original_date=True, url=page_url)
    except Exception as exc:  # htmldate has no error contract either; a date is not worth a page
        logger.debug("date of %s unreadable: %s", url, exc)
        date = None
    sitename = found.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif page_url and (match := META_URL.match(page_url)):
        sitename = match[1]
    return PageMetadata(
        title=_clean(title),
        author=_clean(author),
        date=_clean(date),
        site_name=_clean(sitename),
        description=_clean(found.description),
    )
