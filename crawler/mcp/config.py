"""What one ``fairfetch mcp`` server is: its identity, purposes, grants, ledger and limits.

The product token is what robots.txt groups are matched against, as in a
crawl. The User-Agent says in addition whether a request was made on the
model's own initiative or because the user asked for that URL (the ``fetch``
prompt), in the way the reference MCP fetch server marks it; the norms are
enforced the same way for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from crawler import DEFAULT_TOKEN, PROJECT_URL, __version__
from norms.model import Grants, Usage

if TYPE_CHECKING:
    from crawler.payment import Wallet

Initiated = Literal["agent", "user"]

# What each mode is called in the User-Agent and the ledger.
INITIATED_LABEL: dict[str, str] = {"agent": "autonomous", "user": "user-initiated"}


@dataclass(frozen=True)
class Limits:
    """How much one tool call may cost the publisher and the server."""

    page_timeout: float = 30.0  # seconds for one page request, headers and body included
    robots_timeout: float = 10.0  # robots.txt: past this the origin is unreachable (nothing fetched)
    signal_timeout: float = 10.0  # RSL licences, tdmrep.json
    page_max_bytes: int = 10 * 1024 * 1024  # a page over this is refused as oversized (crawler: DOWNLOAD_MAXSIZE)
    license_max_bytes: int = 1_000_000
    tdmrep_max_bytes: int = 1_000_000
    signal_ttl: float = 24 * 3600.0  # RFC 9309 2.4: no robots.txt copy older than 24 h
    max_redirects: int = 5
    max_wait: float = 30.0  # longest Crawl-delay wait inside one call; longer: "call again in N s"
    per_client: int = 4  # tool calls of one client that fetch at the same time
    per_client_queue: int = 16  # more waiting than this: refused at once
    cache_seconds: float = 300.0  # a fetched page is reused for start_index paging this long
    cache_pages: int = 64


@dataclass(frozen=True)
class ServerConfig:
    token: str = DEFAULT_TOKEN
    contact: str = PROJECT_URL
    purpose: Usage = Usage.AI_INPUT
    grants: Grants = field(default_factory=Grants)
    db_url: str | None = None
    allow_private: bool = False
    limits: Limits = field(default_factory=Limits)
    budget: str | None = None  # "USD 5": the most this server run may spend (Pay Per Crawl)
    signing_key: str | None = None  # Web Bot Auth key file: without it no price is ever offered
    signature_agent: str | None = None

    def user_agent(self, initiated: Initiated, tokens: tuple[str, ...] = ()) -> str:
        """``fairfetch-ai/0.1.0 (+contact; MCP; autonomous)``: the tokens first, so robots.txt groups match.

        ``tokens`` are the purpose tokens a page request goes out under
        (``norms.purposes.request_tokens``), as in a crawl; signal documents go
        out under the base token.
        """
        products = " ".join(f"{t}/{__version__}" for t in (tokens or (self.token,)))
        return f"{products} (+{self.contact}; MCP; {INITIATED_LABEL[initiated]})"

    def wallet(self) -> Wallet:
        """What this server may pay, as a crawl's wallet (``crawler.payment``)."""
        from crawler.session import build_wallet

        return build_wallet(None if self.grants.max_price is None else
                            f"{self.grants.currency} {self.grants.max_price}", self.budget,
                            signing=self.signing_key is not None)
