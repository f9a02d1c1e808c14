"""RSL licence tokens obtained on the operator's behalf (OLP) and presented on covered requests (CAP).

The norms say when a page needs a token (a ``license-token`` obligation
naming the licence server) and what to ask for (``norms.rsl.olp``); this
module is the I/O: it POSTs ``{server}/token`` *through the crawl's own
Scrapy engine*, so the request is signed (Web Bot Auth), bounded in time and
size like every signal document, and never blocks the reactor.

* **Single flight, cached per lifetime.** Requests needing the same token
  (server, ``<content url>`` scope) wait for one token request; the answer
  is reused until ``expires_in`` minus a margin. A failed request is
  remembered for a minute, so a broken licence server is not asked once per
  page.
* **Refresh once.** A 401 (402, 403, 503) with ``WWW-Authenticate: License
  error="invalid_token"`` drops the token the page carried (only that one:
  concurrent pages must not throw away its fresh successor) and re-requests
  the page once, which obtains a new token. A second such answer refuses
  the page. Other CAP errors refuse it with their name.
* **Secrets stay secret.** Client secrets live in memory only (the crawl's
  settings row names the servers, not the credentials); the ledger keeps a
  SHA-256 prefix of each token (``crawler.ledger.licences``).
"""

from __future__ import annotations

import base64
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from scrapy import Request
from scrapy.http.request import NO_CALLBACK

from crawler.faults import describe
from crawler.ledger.licences import fingerprint, record_grant
from crawler.ledger.records import utc_now
from crawler.origin_cache import SingleFlight, origin_of
from norms.model import ObligationKind
from norms.rsl.olp import (
    MAX_ANSWER_BYTES,
    LicenceClaim,
    OlpError,
    licence_claims,
    license_challenge,
    license_element_xml,
    parse_token_answer,
    token_endpoint,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.middlewares.signals import SignalFetcher
    from crawler.origin_cache import OriginSignals
    from crawler.session import CrawlSession
    from norms.verdict import Verdict

logger = logging.getLogger(__name__)

GRANT_META = "fairfetch_license_grant"  # {"id", "server", "resource", "token_fingerprint"}: the page row cites it
CLAIM_META = "fairfetch_license_claim"  # the LicenceClaim the request's token answers
RETRIED_META = "fairfetch_license_retried"  # this attempt already follows an invalid_token
TOKEN_KIND = "licence-token"  # the SIGNAL_META value of token requests: enforcement lets them through
MARGIN = 0.1  # a token is renewed when this share of its lifetime is left (at least 1 s, at most 60 s)
FAILURE_TTL = 60.0
CHALLENGE_STATUSES = (401, 402, 403, 503)
CREDENTIALS_ENV = "FAIRFETCH_LICENSE_CREDENTIALS"
CAP_MEANINGS = {
    "invalid_request": "the content host could not read the licence token request",
    "invalid_token": "the licence token is expired, revoked or not valid here",
    "insufficient_scope": "the licence token does not cover this resource or use",
    "server_error": "the licence server could not check the token",
}


@dataclass(frozen=True)
class Credentials:
    """OAuth 2.0 client credentials for one licence server; ``repr`` never shows the secret."""

    client_id: str
    secret: str = field(repr=False)

    def basic(self) -> str:
        """``Authorization: Basic`` as RFC 6749 2.3.1 asks: both parts form-urlencoded first."""
        pair = f"{quote(self.client_id, safe='')}:{quote(self.secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def parse_credentials(items: list[str], *, env: str | None = None) -> dict[str, Credentials]:
    """``SERVER=CLIENT_ID:SECRET`` items (and ``$FAIRFETCH_LICENSE_CREDENTIALS``, space-separated); ValueError."""
    found: dict[str, Credentials] = {}
    extra = (env if env is not None else os.environ.get(CREDENTIALS_ENV, "")).split()
    for item in [*extra, *items]:
        server, sep, pair = item.partition("=")
        client_id, colon, secret = pair.partition(":")
        server = server.strip().rstrip("/")
        if not sep or not colon or not client_id or not secret:
            raise ValueError("--license-credentials wants SERVER=CLIENT_ID:SECRET (the secret is not shown)")
        if not server.lower().startswith(("http://", "https://")):
            raise ValueError(f"--license-credentials: licence server {server[:80]!r} is not an http(s) URL")
        found[server] = Credentials(client_id, secret)
    return found


@dataclass(frozen=True)
class Grant:
    """What one token request gave: a token (with its ledger row id) or a named failure."""

    grant_id: int
    ok: bool
    token: str | None = field(default=None, repr=False)
    error: str | None = None
    reason: str = ""
    ttl: float = FAILURE_TTL
    expires: float = 0.0  # time.monotonic() when the token expires (0: no token)

    @property
    def token_fingerprint(self) -> str | None:
        return None if self.token is None else fingerprint(self.token)


class LicenceTokens:
    """Tokens for one crawl: obtained once per lifetime, presented, refreshed once (module docstring)."""

    def __init__(self, crawler: Crawler, session: CrawlSession, fetcher: SignalFetcher,
                 credentials: dict[str, Credentials]) -> None:
        self.crawler = crawler
        self.session = session
        self.fetcher = fetcher
        self.credentials = credentials
        self._grants: SingleFlight[LicenceClaim, Grant] = SingleFlight(
            self._obtain, ttl=FAILURE_TTL, ttl_of=lambda g: g.ttl)

    # --- before a page request -------------------------------------------------------

    async def attach(self, request: Request, verdict: Verdict, origin: OriginSignals) -> str | None:
        """Put the token this request needs on it; the refusal reason if it cannot be had, else None."""
        if request.meta.pop(GRANT_META, None) is not None:
            request.headers.pop("Authorization", None)  # an earlier attempt's token (a retry or a redirect)
        request.meta.pop(CLAIM_META, None)
        servers = [o.url for usage in verdict.permitted_purposes for o in verdict.usages[usage].obligations
                   if o.kind is ObligationKind.LICENSE_TOKEN and o.url and o.url.rstrip("/") in self.credentials]
        if not servers:
            return None
        claims = licence_claims(request.url, origin.licenses, self.session.grants,
                                verdict.permitted_purposes, servers)
        if not claims:
            return None
        claim = claims[0]  # one Authorization header carries one token
        grant = await self._grants.get(claim)
        if grant.ok and grant.expires - time.monotonic() < self._lead(request):
            # It would expire while the request waits for its origin's turn: a fresh one now, once.
            self.drop(claim, grant.token_fingerprint)
            grant = await self._grants.get(claim)
        if not grant.ok or grant.token is None:
            return (f"licence token from {claim.server} not obtained ({grant.error}): {grant.reason}; "
                    f"licence grant #{grant.grant_id}")
        request.headers["Authorization"] = f"License {grant.token}"
        request.meta[CLAIM_META] = claim
        request.meta[GRANT_META] = {"id": grant.grant_id, "server": claim.server, "resource": claim.resource,
                                    "license_url": claim.license_url, "token_fingerprint": grant.token_fingerprint}
        return None

    def _lead(self, request: Request) -> float:
        """How long a token must still live when attached: the request may wait in its slot's queue first."""
        slots = getattr(getattr(self.crawler.engine, "downloader", None), "slots", {})
        slot = slots.get(request.meta.get("download_slot", ""))
        if slot is None:
            return 1.0
        wait = slot.delay * (1 + getattr(slot, "jitter", 0.5)) * (len(getattr(slot, "queue", ())) + 1)
        return 1.0 + min(wait, 300.0)

    # --- after its response -----------------------------------------------------------

    def challenge(self, request: Request, response: Response) -> Request | str | None:
        """A CAP challenge to a request that carried our token: a retry with a fresh token, a refusal, or None."""
        grant = request.meta.get(GRANT_META)
        claim = request.meta.get(CLAIM_META)
        if grant is None or claim is None or response.status not in CHALLENGE_STATUSES:
            return None
        error = license_challenge(v.decode("latin-1") for v in response.headers.getlist(b"WWW-Authenticate"))
        if error is None:
            return None
        status = response.status
        if error in ("invalid_token", ""):
            if request.meta.get(RETRIED_META):
                # A token fresh from the server refused too: something is wrong beyond expiry. The
                # scope is given up for a while rather than asking both servers again for every page.
                reason = (f"HTTP {status} License error=\"invalid_token\" again with a fresh token from "
                          f"{claim.server}: {CAP_MEANINGS['invalid_token']}")
                cached = self._grants.peek(claim)
                if cached is None or cached.token_fingerprint == grant["token_fingerprint"]:
                    self._grants.put(claim, self._failed(claim, "", "failed", "token-rejected", reason))
                return reason
            self.drop(claim, grant["token_fingerprint"])
            return request.replace(dont_filter=True, meta={**request.meta, RETRIED_META: True})
        meaning = CAP_MEANINGS.get(error, "an error CAP does not define")
        return f"HTTP {status} License error=\"{error}\" from the content host: {meaning}"

    def drop(self, claim: LicenceClaim, token_fingerprint: str | None) -> None:
        """Forget the cached token if it is still the one that was refused (not a newer one)."""
        cached = self._grants.peek(claim)
        if cached is not None and cached.token_fingerprint == token_fingerprint:
            self._grants.forget(claim)

    # --- the token request -----------------------------------------------------------

    async def _obtain(self, claim: LicenceClaim) -> Grant:
        credentials = self.credentials[claim.server.rstrip("/")]
        xml = ""
        try:
            body = await self.fetcher.license_body(claim.license_url)
            if body is None:
                raise OlpError("the licence document is no longer available", code="licence-not-found")
            xml = license_element_xml(body, claim.content_url, claim.offer_index)
        except ValueError as exc:  # SignalError, or XML the reader accepted but we cannot re-serialise
            return self._failed(claim, xml, "failed", getattr(exc, "code", None) or "licence-unreadable", str(exc))
        form = urlencode({"grant_type": "client_credentials", "license": xml, "resource": claim.resource})
        request = Request(
            token_endpoint(claim.server), method="POST", body=form, callback=NO_CALLBACK, dont_filter=True,
            priority=1000,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                     "Authorization": credentials.basic(), "Cache-Control": "no-store"},
            meta=self._meta(claim.server),
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            kind, text = describe(exc)
            code = "too-large" if kind == "oversized" else kind
            return self._failed(claim, xml, "failed", code, f"token request failed: {text}"[:300])
        try:
            answer = parse_token_answer(response.status, response.body)
        except OlpError as exc:
            outcome = "denied" if 400 <= response.status < 500 else "failed"
            return self._failed(claim, xml, outcome, exc.code or "invalid-answer", str(exc))
        lifetime = float(answer.expires_in)
        margin = min(max(lifetime * MARGIN, 1.0), 60.0)
        grant_id = record_grant(
            self.session.ledger, crawl_id=self.session.crawl_id, at=utc_now(), server=claim.server,
            resource=claim.resource, license_url=claim.license_url, license_xml=xml, outcome="granted",
            expires_at=utc_now() + timedelta(seconds=lifetime), token=answer.access_token,
            detail=f"expires_in {answer.expires_in}",
        )
        self.session.summary.signals[TOKEN_KIND] += 1
        logger.info("licence token from %s for %s (grant #%d)", claim.server, claim.resource, grant_id)
        return Grant(grant_id, True, answer.access_token, ttl=max(lifetime - margin, 0.0),
                     expires=time.monotonic() + lifetime)

    def _meta(self, server: str) -> dict[str, Any]:
        from crawler.middlewares.signals import SIGNAL_META

        return {
            SIGNAL_META: TOKEN_KIND, "dont_redirect": True, "dont_retry": True, "handle_httpstatus_all": True,
            "download_timeout": self.session.signal_timeout, "download_maxsize": MAX_ANSWER_BYTES,
            "download_slot": origin_of(server),
        }

    def _failed(self, claim: LicenceClaim, xml: str, outcome: str, error: str, reason: str) -> Grant:
        grant_id = record_grant(
            self.session.ledger, crawl_id=self.session.crawl_id, at=utc_now(), server=claim.server,
            resource=claim.resource, license_url=claim.license_url, license_xml=xml, outcome=outcome,
            error=error, detail=reason,
        )
        self.session.summary.signals[f"{TOKEN_KIND}-{outcome}"] += 1
        logger.info("licence token from %s %s: %s (%s)", claim.server, outcome, error, reason)
        return Grant(grant_id, False, error=error, reason=reason)
