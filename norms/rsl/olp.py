"""RSL licence servers, read without I/O: what to ask for (OLP) and what the answers mean (OLP, CAP).

A ``<content server>`` licence is proven to the content host with a token
from the licence server (Crawler Authorization Protocol: ``Authorization:
License <token>``). The Open Licensing Protocol says how to get one: ``POST
{server}/token`` with OAuth 2.0 client credentials, the ``<license>`` element
agreed to and the ``resource`` it is for. This module decides the request
(:func:`licence_claims`, :func:`license_element_xml`) and reads the answers
(:func:`parse_token_answer`, :func:`license_challenge`); the crawler sends
them. Readings taken where the draft pages differ or are vague:

* ``grant_type=client_credentials`` (RSL 1.0; early drafts said ``rsl``);
* ``resource`` is the ``<content url>`` scope made absolute, so one token
  covers every page under the scope (tokens are per resource; the scope is
  the resource the licence names);
* ``license`` is the granting ``<license>`` element re-serialised from the
  publisher's document (same elements, attributes and text; the namespace
  written as the default one).

Answers are untrusted: a bad one is an ``OlpError`` (a ``SignalError``)
whose ``code`` names the failure, never another exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel, ConfigDict

from norms.model import Grants, SignalError, Usage
from norms.rsl.discovery import LicenseSource
from norms.rsl.document import RSL_NAMESPACE
from norms.rsl.elements import RslLicense
from norms.rsl.statements import _affordable, _satisfiable, accepted, applicable_sources, consented
from norms.rsl.terms import Terms, offer_cost
from norms.rsl.xmlsafe import parse_xml

TOKEN_TYPE = "License"
MAX_TOKEN_CHARS = 4096
MAX_EXPIRES_IN = 30 * 24 * 3600  # longer lifetimes are capped: a licence is re-checked at least monthly
MAX_ANSWER_BYTES = 64 * 1024
CAP_ERRORS = ("invalid_request", "invalid_token", "insufficient_scope", "server_error")
_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


class OlpError(SignalError):
    """A token answer or challenge that cannot be used; ``code`` names why (ledger ``error`` column)."""


class TokenAnswer(BaseModel):
    """A licence server's successful answer (RFC 6749 5.1 with ``token_type: License``)."""

    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: str
    expires_in: int


class LicenceClaim(BaseModel):
    """One token to obtain: which server, for which scope, under which licence offer."""

    model_config = ConfigDict(frozen=True)

    server: str
    resource: str
    license_url: str
    content_url: str
    offer_index: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.server, self.resource)


def token_endpoint(server: str) -> str:
    return server.rstrip("/") + "/token"


def resource_for(content_url: str, page_url: str) -> str:
    """The ``<content url>`` scope as an absolute URL (relative patterns are relative to the page's origin)."""
    if content_url.lower().startswith(("http://", "https://")):
        return content_url
    from urllib.parse import urlsplit

    parts = urlsplit(page_url)
    return f"{parts.scheme}://{parts.netloc}{content_url if content_url.startswith('/') else '/' + content_url}"


def _chosen_offer(source: LicenseSource, terms: Terms, usages: Iterable[Usage], grants: Grants) -> RslLicense | None:
    """The offer the norms took for the first purpose it grants (the cheapest we may agree to)."""
    for usage in usages:
        offers = [o for o in terms.ruling(usage).granting if _satisfiable(o)]
        if not accepted(source, grants):
            offers = [o for o in offers if _affordable(o, grants)]
        if offers:
            return min(offers, key=offer_cost)
    return None


def licence_claims(
    url: str, sources: Sequence[LicenseSource], grants: Grants, usages: Iterable[Usage], servers: Iterable[str]
) -> list[LicenceClaim]:
    """Tokens to request before fetching ``url`` from ``servers`` (those the verdict obliges a token from).

    Only servers the operator has credentials for and whose licence it
    agreed to; a server with a pre-obtained token (``--license-token``) is
    never asked.
    """
    wanted = set(servers) - set(grants.license_tokens)
    claims: list[LicenceClaim] = []
    for source in applicable_sources(sources):
        document = source.document
        terms = document.terms_for(url) if document is not None else None
        if terms is None or not consented(source, terms, grants):
            continue
        offer = _chosen_offer(source, terms, list(usages), grants)
        if offer is None:
            continue
        for content in terms.contents:
            server = content.server
            if server in wanted and server.rstrip("/") in grants.license_credentials and offer in content.licenses:
                claims.append(LicenceClaim(server=server, resource=resource_for(content.url, url),
                                           license_url=source.ref.url, content_url=content.url,
                                           offer_index=offer.index))
    return list(dict.fromkeys(claims))


def license_element_xml(body: bytes | str, content_url: str, index: int) -> str:
    """The ``index``-th (1-based) ``<license>`` of the ``<content url=content_url>`` in the document, as XML."""
    root = parse_xml(body, what="RSL document", limit=MAX_ANSWER_BYTES * 16)
    ns = "{" + RSL_NAMESPACE + "}"
    for content in root.iter(ns + "content"):
        if content.get("url") != content_url:
            continue
        licences = [child for child in content if child.tag == ns + "license"]
        if 1 <= index <= len(licences):
            return _serialise(licences[index - 1], None)
    raise OlpError(f"no <license> #{index} in <content url={content_url!r}>", code="licence-not-found")


def _serialise(element: Element, namespace: str | None) -> str:
    """``element`` as XML, each namespace declared where it starts (the RSL one as the default namespace)."""
    ns, _, local = element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", element.tag)
    declare = f' xmlns="{escape(ns, {chr(34): "&quot;"})}"' if ns != (namespace or "") else ""
    attrs = "".join(f' {name}={quoteattr(value)}' for name, value in element.attrib.items()
                    if not name.startswith("{"))
    inner = escape(element.text or "") + "".join(
        _serialise(child, ns) + escape(child.tail or "") for child in element)
    return f"<{local}{declare}{attrs}>{inner}</{local}>" if inner else f"<{local}{declare}{attrs}/>"


def _oauth_error(data: object) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        name = data["error"]
        if re.fullmatch(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}", name):
            return name
    return None


def parse_token_answer(status: int, body: bytes) -> TokenAnswer:
    """A usable token from a ``/token`` answer, or ``OlpError`` with a code naming the failure.

    Codes: ``too-large``, ``server-error`` (5xx), an RFC 6749 5.2 error name
    such as ``invalid_client`` (4xx with an error object), ``http-<status>``,
    ``not-json``, ``no-token``, ``wrong-token-type``, ``bad-expires-in``.
    """
    if len(body) > MAX_ANSWER_BYTES:
        raise OlpError(f"token answer larger than {MAX_ANSWER_BYTES} bytes", code="too-large")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if status >= 500:
        raise OlpError(f"licence server answered HTTP {status}", code="server-error")
    if status != 200:
        name = _oauth_error(data)
        raise OlpError(f"licence server refused: HTTP {status}" + (f" error={name}" if name else ""),
                       code=name or f"http-{status}")
    if not isinstance(data, dict):
        raise OlpError("token answer is not a JSON object", code="not-json")
    token = data.get("access_token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS or not _TOKEN68.match(token):
        raise OlpError("token answer has no usable access_token", code="no-token")
    kind = data.get("token_type")
    if not isinstance(kind, str) or kind.lower() != TOKEN_TYPE.lower():
        raise OlpError(f"token_type {str(kind)[:40]!r} is not {TOKEN_TYPE!r}", code="wrong-token-type")
    expires = data.get("expires_in")
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        raise OlpError(f"expires_in {str(expires)[:40]!r} is not a positive integer", code="bad-expires-in")
    return TokenAnswer(access_token=token, token_type=TOKEN_TYPE, expires_in=min(expires, MAX_EXPIRES_IN))


def _items(value: str) -> list[str]:
    """Comma-separated items outside quoted strings."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    items.append("".join(current).strip())
    return [i for i in items if i]


def _param(item: str) -> tuple[str, str] | None:
    name, sep, value = item.partition("=")
    if not sep or not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name.strip()):
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return name.strip().lower(), value


def license_challenge(values: Iterable[str]) -> str | None:
    """The ``error`` of a ``License`` challenge in ``WWW-Authenticate`` values (RFC 9110 11.6.1).

    ``None``: no License challenge; ``""``: a License challenge without an
    error (no token was sent). Other schemes' challenges are skipped.
    """
    found: str | None = None
    for value in values:
        scheme: str | None = None
        for item in _items(value):
            param = _param(item)
            if param is None:  # "Scheme" or "Scheme first-param": a new challenge
                head, _, rest = item.partition(" ")
                scheme = head.lower()
                if scheme == "license" and found is None:
                    found = ""
                param = _param(rest.strip())
            if scheme == "license" and param is not None and param[0] == "error" and not found:
                found = param[1][:64]
    return found
