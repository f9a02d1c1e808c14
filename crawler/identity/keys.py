"""Web Bot Auth keys: an Ed25519 key pair as JWKs, its RFC 7638 thumbprint, the public directory.

The private key lives in one JWK file that only its owner may read (mode 0600,
refused otherwise, as ssh refuses a key others can read); the public half is
published as a JWKS at ``/.well-known/http-message-signatures-directory`` on the
operator's own site. The key id a signature names is the key's RFC 7638 JWK
SHA-256 thumbprint, so a verifier can match a signature to a directory entry
without trusting any name we chose.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_FILE = "signing-key.jwk"
DIRECTORY_FILE = "http-message-signatures-directory.json"
DIRECTORY_PATH = "/.well-known/http-message-signatures-directory"
DIRECTORY_MEDIA_TYPE = "application/http-message-signatures-directory+json"


class IdentityError(ValueError):
    """A key file or signing option that cannot be used; the message is one line for people."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise IdentityError(f"{what} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raise IdentityError(f"{what} is not valid base64url") from None


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as the three JWK members RFC 8037 defines for an OKP key."""
    x = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(x)}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK SHA-256 thumbprint (base64url): the required members, sorted, no white space."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def directory(keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    """The JWKS a verifier fetches from :data:`DIRECTORY_PATH`; each key carries its thumbprint as ``kid``."""
    entries = []
    for key in keys:
        jwk = public_jwk(key)
        entries.append({**jwk, "kid": thumbprint(jwk), "use": "sig"})
    return {"keys": entries}


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key with the id signatures name it by."""

    private: Ed25519PrivateKey
    keyid: str
    path: Path | None = None

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def directory(self) -> dict[str, Any]:
        return directory([self.public])


def new_signing_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(private, thumbprint(public_jwk(private.public_key())))


def private_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    d = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {**public_jwk(key.public_key()), "d": b64url(d)}


def key_from_jwk(data: Any, source: str = "the key") -> SigningKey:
    """A :class:`SigningKey` from a private JWK; any defect is an :class:`IdentityError` naming it."""
    if not isinstance(data, dict):
        raise IdentityError(f"{source} is not a JSON object (a JWK)")
    if data.get("kty") != "OKP" or data.get("crv") != "Ed25519":
        raise IdentityError(f"{source} is not an Ed25519 key (needs kty OKP, crv Ed25519)")
    if "d" not in data:
        raise IdentityError(f"{source} holds no private key (no 'd'): is it the public directory?")
    d = _unb64url(data["d"], f"{source}: 'd'")
    if len(d) != 32:
        raise IdentityError(f"{source}: 'd' must be 32 bytes, not {len(d)}")
    private = Ed25519PrivateKey.from_private_bytes(d)
    jwk = public_jwk(private.public_key())
    if "x" in data and data["x"] != jwk["x"]:
        raise IdentityError(f"{source}: 'x' is not the public half of 'd'")
    return SigningKey(private, thumbprint(jwk))


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read a key file written by :func:`write_key_files`; refuse one that others may read."""
    file = Path(path)
    try:
        info = file.stat()
        raw = file.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read key file {file}: {exc.strerror or exc}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IdentityError(
            f"key file {file} is readable by others (mode {stat.S_IMODE(info.st_mode):04o}): "
            f"run 'chmod 600 {file}'"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise IdentityError(f"key file {file} is not JSON (a JWK)") from None
    key = key_from_jwk(data, f"key file {file}")
    return SigningKey(key.private, key.keyid, file)


@dataclass(frozen=True)
class KeyFiles:
    key_file: Path
    directory_file: Path
    keyid: str


def write_key_files(folder: str | os.PathLike[str], *, force: bool = False) -> KeyFiles:
    """Write a new private key (mode 0600) and its public directory into ``folder``.

    An existing key is never overwritten unless ``force``: a lost key means a
    new identity that every publisher who allowed the old one must learn again.
    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IdentityError(f"cannot create {target}: {exc.strerror or exc}") from None
    key_file, dir_file = target / KEY_FILE, target / DIRECTORY_FILE
    if not force and key_file.exists():
        raise IdentityError(f"{key_file} exists; pass --force to replace it (its identity is lost)")
    key = new_signing_key()
    body = json.dumps({**private_jwk(key.private), "kid": key.keyid}, indent=2) + "\n"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        if force and key_file.exists():
            key_file.unlink()
        fd = os.open(key_file, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.chmod(key_file, 0o600)  # whatever the umask said
        dir_file.write_text(json.dumps(key.directory(), indent=2) + "\n", encoding="utf-8")
    except FileExistsError:
        raise IdentityError(f"{key_file} exists; pass --force to replace it") from None
    except OSError as exc:
        raise IdentityError(f"cannot write the key files in {target}: {exc.strerror or exc}") from None
    return KeyFiles(key_file, dir_file, key.keyid)
