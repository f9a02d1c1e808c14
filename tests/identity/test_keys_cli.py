"""``fairfetch keys new/show`` through the console script: files, modes, refusals, one-line errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.identity.keys import DIRECTORY_FILE, KEY_FILE, load_signing_key, public_jwk, thumbprint

FAIRFETCH = Path(sys.executable).parent / "fairfetch"


def ff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FAIRFETCH), *args], capture_output=True, text=True, timeout=60, check=False)


def test_keys_new_writes_a_private_key_only_its_owner_reads_and_a_public_directory(tmp_path: Path) -> None:
    out = ff("keys", "new", str(tmp_path / "id"), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    key_file, dir_file = tmp_path / "id" / KEY_FILE, tmp_path / "id" / DIRECTORY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = load_signing_key(key_file)
    assert result["keyid"] == key.keyid == thumbprint(public_jwk(key.public))
    directory = json.loads(dir_file.read_text())
    (entry,) = directory["keys"]
    assert entry["kid"] == key.keyid and entry["kty"] == "OKP" and entry["crv"] == "Ed25519"
    assert "d" not in entry and '"d"' not in dir_file.read_text()

    shown = ff("keys", "show", str(key_file), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == {"keyid": key.keyid, "directory": directory}
    table = ff("keys", "show", str(key_file))
    assert key.keyid in table.stdout and "http-message-signatures-directory" in table.stdout


def test_keys_new_never_overwrites_without_force(tmp_path: Path) -> None:
    assert ff("keys", "new", str(tmp_path)).returncode == 0
    before = (tmp_path / KEY_FILE).read_bytes()
    again = ff("keys", "new", str(tmp_path))
    assert again.returncode == 2 and "--force" in again.stderr and len(again.stderr.strip().splitlines()) <= 2
    assert (tmp_path / KEY_FILE).read_bytes() == before
    assert ff("keys", "new", str(tmp_path), "--force").returncode == 0
    assert (tmp_path / KEY_FILE).read_bytes() != before
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize("case", ["missing", "readable", "public", "not-json", "wrong-curve", "mismatch"])
def test_unusable_key_files_are_one_line_errors(tmp_path: Path, case: str) -> None:
    ff("keys", "new", str(tmp_path))
    key_file = tmp_path / KEY_FILE
    data = json.loads(key_file.read_text())
    if case == "missing":
        key_file = tmp_path / "nope.jwk"
    elif case == "readable":
        os.chmod(key_file, 0o644)
    elif case == "public":
        key_file = tmp_path / DIRECTORY_FILE
        os.chmod(key_file, 0o600)
    elif case == "not-json":
        key_file.write_text("-----BEGIN PRIVATE KEY-----\n")
    elif case == "wrong-curve":
        key_file.write_text(json.dumps({**data, "crv": "X25519"}))
    elif case == "mismatch":
        key_file.write_text(json.dumps({**data, "x": data["x"][::-1]}))
    out = ff("keys", "show", str(key_file))
    assert out.returncode == 2
    assert out.stderr.startswith("error:") and "Traceback" not in out.stderr
