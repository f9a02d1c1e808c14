"""docs/publishers.md documents every problem code the checker can report, with its severity."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.checker.catalogue import CATALOGUE
from crawler.checker.report import SCHEMA_VERSION

DOC = (Path(__file__).resolve().parents[2] / "docs" / "publishers.md").read_text()


def test_every_code_is_in_the_docs_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \|", DOC, re.M))
    assert set(rows) == set(CATALOGUE)
    for code, entry in CATALOGUE.items():
        assert rows[code] == entry.severity.value, code


def test_the_schema_version_and_offline_options_are_documented() -> None:
    assert f'"schema_version": {SCHEMA_VERSION}' in DOC
    for option in ("--robots", "--rsl", "--tdmrep", "--html", "--headers", "--status", "--url", "--max-checks",
                   "--rate", "--trust-proxy"):
        assert option in DOC, option
    assert "reverse proxy" in DOC
