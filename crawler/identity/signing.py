"""Web Bot Auth request signatures (RFC 9421 HTTP Message Signatures, Ed25519).

Follows draft-ietf-webbotauth-httpsig-protocol-01 (2026-10-29): every request
carries ``Signature-Agent`` (a Structured Field Dictionary whose member, keyed
by the signature's label, is the https origin serving our key directory),
``Signature-Input`` and ``Signature``. The signature covers ``@method``,
``@authority``, ``@path`` and the ``Signature-Agent`` member for its own label
(the draft requires ``@authority`` and that member; method and path narrow a
replay), plus every price header (Cloudflare's Pay Per Crawl refuses a price
that the signature does not cover) and an RSL ``Authorization`` header when
present. Parameters: ``created``, ``expires`` a short time later, ``keyid``
(RFC 7638 thumbprint), ``alg="ed25519"``, a random ``nonce`` and
``tag="web-bot-auth"``.

The RFC 9421 machinery (signature base, Structured Field serialisation) is the
``http-message-signatures`` package's; this module only chooses what to cover.
Signing happens as the request leaves (:mod:`crawler.identity.handler`), so a
request that waited out a Crawl-delay in a slot queue is not sent stale.
"""

from __future__ import annotations

import base64
import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from http_message_signatures import HTTPMessageSigner, algorithms

from crawler.identity.keys import IdentityError, SigningKey

DRAFT = "draft-ietf-webbotauth-httpsig-protocol-01"
TAG = "web-bot-auth"
LABEL = "sig1"
VALIDITY_SECONDS = 60  # the draft recommends short-lived signatures; a minute covers clock skew
PRICE_HEADERS = ("crawler-max-price", "crawler-exact-price")
SIGNATURE_HEADERS = ("Signature-Agent", "Signature-Input", "Signature")


@dataclass
class _Message:
    """The view of a request the signer reads and writes: method, absolute URL, header fields."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def signature_agent_value(agent_url: str) -> str:
    """The ``Signature-Agent`` field for :data:`LABEL`: a Dictionary member holding a String."""
    return f'{LABEL}="{agent_url}"'


def check_agent_url(agent_url: str) -> str:
    """The draft's ``Signature-Agent`` names an https origin (the key directory's); refuse anything else."""
    parts = urlsplit(agent_url)
    if parts.scheme != "https" or not parts.hostname:
        raise IdentityError(f"--signature-agent {agent_url!r} must be an https URL (where your key directory is)")
    if any(c in agent_url for c in '"\\') or not agent_url.isascii() or not agent_url.isprintable():
        raise IdentityError(f"--signature-agent {agent_url!r} has characters a header cannot carry")
    return agent_url.rstrip("/") if parts.path in ("", "/") else agent_url


class RequestSigner:
    """Signs outgoing requests with one key, as one agent."""

    def __init__(self, key: SigningKey, agent_url: str, *, validity: int = VALIDITY_SECONDS) -> None:
        self.key = key
        self.agent_url = check_agent_url(agent_url)
        self.validity = validity
        self._signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)

    def covered(self, headers: Mapping[str, str]) -> list[str]:
        names = {name.lower() for name in headers}
        components = ["@method", "@authority", "@path", f'"signature-agent";key="{LABEL}"']
        components += [name for name in PRICE_HEADERS if name in names]
        if "authorization" in names:
            components.append("authorization")
        return components

    def sign(self, method: str, url: str, headers: Mapping[str, str], *, now: float | None = None) -> dict[str, str]:
        """The three signature headers for a request with these ``headers`` (others are left alone).

        ``headers`` are the request's own fields as they will be sent; any
        earlier signature headers in them are ignored and replaced.
        """
        fields = {k: v for k, v in headers.items() if k.lower() not in {h.lower() for h in SIGNATURE_HEADERS}}
        fields["Signature-Agent"] = signature_agent_value(self.agent_url)
        message = _Message(method.upper(), url, fields)
        created = datetime.datetime.fromtimestamp(
            int(now if now is not None else datetime.datetime.now().timestamp()), tz=datetime.UTC
        )
        # prepare() builds and checks the signature base; apply() would build it a second
        # time to check the message did not change meanwhile, which it cannot here (half the cost).
        prepared = self._signer.prepare(
            message,
            key_id=self.key.keyid,
            created=created,
            expires=created + datetime.timedelta(seconds=self.validity),
            nonce=base64.b64encode(os.urandom(32)).decode("ascii"),
            label=LABEL,
            tag=TAG,
            covered_component_ids=self.covered(fields),
        )
        signature = base64.b64encode(self.key.private.sign(prepared.signature_base)).decode("ascii")
        message.headers["Signature-Input"] = f"{prepared.label}={prepared.signature_params}"
        message.headers["Signature"] = f"{prepared.label}=:{signature}:"
        return {name: message.headers[name] for name in SIGNATURE_HEADERS}
