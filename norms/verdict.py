"""The result of ``norms.evaluate``: one decision per usage, a fetch decision, and the evidence."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from norms.model import Effect, Evidence, Obligation, Usage
from norms.problems import Finding


class UsageDecision(BaseModel):
    """May the content be used for ``usage``? ``allow`` may carry obligations."""

    model_config = ConfigDict(frozen=True)

    usage: Usage
    effect: Effect
    obligations: tuple[Obligation, ...] = ()
    reasons: tuple[str, ...] = ()
    decided_by: Evidence | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW

    @property
    def conditional(self) -> bool:
        """Allowed, but only if the obligations are met."""
        return self.allowed and bool(self.obligations)


class FetchDecision(BaseModel):
    """May the URL be requested (before) or its response used at all (after)?"""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str
    decided_by: Evidence | None = None


class Verdict(BaseModel):
    """Everything decided about one URL for one crawler, with the evidence behind it.

    ``fetch`` is the access decision (robots.txt, HTTP gates, licence server
    tokens, payment) combined with the declared ``purposes``: a URL none of
    whose declared purposes is allowed is not fetched either.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    user_agent: str
    purposes: tuple[Usage, ...]
    fetch: FetchDecision
    usages: dict[Usage, UsageDecision]
    evidence: tuple[Evidence, ...] = ()
    exclude_selectors: tuple[str, ...] = Field(
        default=(), description="CSS selectors of page parts that must be dropped before use"
    )
    findings: tuple[Finding, ...] = Field(
        default=(), description="what the readers found wrong in the signals decided from (after a response)"
    )

    def allowed(self, usage: Usage | str) -> bool:
        return self.usages[Usage(usage)].allowed

    @property
    def permitted_purposes(self) -> tuple[Usage, ...]:
        """The declared purposes this URL may be used for."""
        return tuple(p for p in self.purposes if self.usages[p].allowed)

    def obligations(self, usage: Usage | str) -> tuple[Obligation, ...]:
        return self.usages[Usage(usage)].obligations
