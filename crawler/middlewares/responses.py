"""What the norms read from a Scrapy response: its header lines, whether it is HTML, the licences it names.

Enforcement judges a response from these, the spider classifies the page
from the same header lines, and the MCP fetch pipeline finds an answer's
licences with the same discovery: one reading of a response for all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from norms.html import HtmlDoc
from norms.http import HeaderLines, header_lines
from norms.model import LicenseRef

if TYPE_CHECKING:
    from scrapy.http import Response

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def scrapy_header_lines(response: Response) -> HeaderLines:
    """Scrapy's bytes headers as the ordered ``(name, value)`` lines ``norms`` reads (repeats kept)."""
    return header_lines(
        [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
    )


def is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    return ctype in _HTML_TYPES or (not ctype and response.body.lstrip()[:15].lower().startswith(b"<!doctype html"))


def page_license_refs(
    url: str, headers: HeaderLines, html: HtmlDoc | None, *, warnings: list[str] | None = None
) -> list[LicenseRef]:
    """RSL licences a response names: ``Link`` headers, ``<link>`` and inline ``<script>``.

    What discovery cannot read (a target that is not a URL) is skipped and
    noted in ``warnings``; the crawler keeps them on the page's ledger row.
    """
    from norms.rsl import discover_from_headers, discover_from_html

    refs = list(discover_from_headers(headers, url, warnings=warnings))
    if html is not None:
        refs.extend(discover_from_html(html, url, warnings=warnings))
    return list(dict.fromkeys(refs))
