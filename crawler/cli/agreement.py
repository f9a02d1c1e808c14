"""Options for agreeing with publishers: who we are (Web Bot Auth signing) and what we pay (a budget).

Shared by every command that fetches on the operator's behalf, so that they read the same way.
"""

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


def add_budget_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--budget", metavar='"USD x"',
                        help="the most this crawl may spend in total (Pay Per Crawl); paid pages past it "
                             "are refused with reason 'budget'")


def budget_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``FAIRFETCH_BUDGET`` from ``--budget`` (checked against ``--max-price``'s currency); raises ValueError."""
    budget = getattr(args, "budget", None)
    if budget is None:
        return {}
    from crawler.session import parse_max_price
    from norms.model import SignalError

    try:
        amount, currency = parse_max_price(budget)
        _, ceiling_currency = parse_max_price(getattr(args, "max_price", None))
    except SignalError as exc:
        raise ValueError(str(exc).replace("price ceiling", "--budget", 1)) from None
    if amount is None:
        raise ValueError("--budget is empty")
    if getattr(args, "max_price", None) and currency != ceiling_currency:
        raise ValueError(f"--budget is in {currency} but --max-price in {ceiling_currency}")
    return {"FAIRFETCH_BUDGET": budget}


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


def add_license_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "RSL licences (obtain licence tokens from licence servers: Open Licensing Protocol)"
    )
    group.add_argument("--license-token", action="append", default=[], metavar="SERVER=TOKEN",
                       help="an RSL licence token already held for a licence server (repeatable)")
    group.add_argument("--license-credentials", action="append", default=[], metavar="SERVER=CLIENT_ID:SECRET",
                       help="OAuth client credentials for a licence server: tokens are requested from "
                            "SERVER/token when you agreed to the licence (repeatable; also "
                            "$FAIRFETCH_LICENSE_CREDENTIALS, space-separated, to keep secrets off the command line)")
    group.add_argument("--accept-license", action="append", default=[], metavar="URL",
                       help="agree to the RSL licence document at URL (as robots.txt or a Link header names it), "
                            "whatever it costs (repeatable); otherwise only licences within --max-price are agreed to")


def license_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Tokens held, OLP credentials and accepted licences from the options; raises ValueError (one line)."""
    from crawler.licensing import parse_credentials
    from norms.model import SignalError
    from norms.urls import normalize_url

    tokens: dict[str, str] = {}
    for item in getattr(args, "license_token", None) or []:
        server, sep, value = item.partition("=")
        if not sep or not server.strip() or not value.strip():
            raise ValueError(f"--license-token {server.strip()[:80]!r}=... is not SERVER=TOKEN")
        tokens[server.strip()] = value.strip()
    accepted = []
    for url in getattr(args, "accept_license", None) or []:
        try:
            accepted.append(normalize_url(url.strip()))
        except SignalError as exc:
            raise ValueError(f"--accept-license {url[:80]!r}: {exc}") from None
        if not accepted[-1].startswith(("http://", "https://")):
            raise ValueError(f"--accept-license {url[:80]!r} is not an http(s) URL")
    return {
        "FAIRFETCH_LICENSE_TOKENS": tokens,
        "FAIRFETCH_LICENSE_CREDENTIALS": parse_credentials(getattr(args, "license_credentials", None) or []),
        "FAIRFETCH_ACCEPT_LICENSES": accepted,
    }
