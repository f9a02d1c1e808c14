"""The Web Bot Auth options every command that fetches shares: ``--signing-key`` and ``--signature-agent``."""

from __future__ import annotations

import argparse
from typing import Any


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "identity (Web Bot Auth: sign every request so publishers can verify who is asking)"
    )
    group.add_argument("--signing-key", metavar="FILE",
                       help="Ed25519 JWK written by 'fairfetch keys new' (mode 0600)")
    group.add_argument("--signature-agent", metavar="URL",
                       help="https origin that serves your key directory at "
                            "/.well-known/http-message-signatures-directory")


def identity_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Check the two options together (a key is loaded once here, so errors are one line); raises ValueError."""
    key, agent = getattr(args, "signing_key", None), getattr(args, "signature_agent", None)
    if not key and not agent:
        return {}
    if not key or not agent:
        raise ValueError("--signing-key and --signature-agent go together")
    from crawler.identity.keys import IdentityError, load_signing_key
    from crawler.identity.signing import check_agent_url

    try:
        load_signing_key(key)
        check_agent_url(agent)
    except IdentityError as exc:
        raise ValueError(str(exc)) from None
    return {"FAIRFETCH_SIGNING_KEY": key, "FAIRFETCH_SIGNATURE_AGENT": agent}
