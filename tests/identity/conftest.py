"""Shared fixtures of the identity tests: the fixture web and the key it trusts, as an operator's key file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.identity import TEST_KEY_FILE
from fixtures.web import FixtureWeb


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as w:
        yield w


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    """The RFC 9421 test key, copied with mode 0600 as ``fairfetch keys new`` writes keys."""
    path = tmp_path / "signing-key.jwk"
    shutil.copyfile(TEST_KEY_FILE, path)
    path.chmod(0o600)
    return str(path)
