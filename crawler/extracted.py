"""What extraction found on a page: the type the extraction pool hands back to the crawler.

Apart from ``crawler.extract`` so that unpickling a pool's result imports this
dataclass and nothing else: its class path is what pickle imports, and
``crawler.extract`` brings trafilatura, htmldate and numpy (about half a
second of CPU and 40 MB on the reactor thread, at the crawl's first page).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str | None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site_name: str | None = None
    description: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    license_url: str | None = None

    def metadata(self) -> dict[str, Any]:
        """Everything but the text, without empty fields (the ledger's ``metadata`` column).

        Read field by field: ``dataclasses.asdict`` deep-copies each value (7 µs a
        page on the reactor, against 1 µs).
        """
        found = {name: getattr(self, name) for name in _METADATA}
        return {k: v for k, v in found.items() if v}


_METADATA = tuple(f.name for f in fields(Extracted) if f.name != "text")
