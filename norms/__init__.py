"""fairfetch norms: pure, I/O-free readers of publisher signals and one decision per URL and usage."""

from norms.evaluate import DEFAULT_EFFECTS, combine, evaluate
from norms.model import (
    AI_USAGES,
    ALL_USAGES,
    Effect,
    Evidence,
    Gate,
    Grants,
    Obligation,
    ObligationKind,
    Signal,
    SignalError,
    Statement,
    Usage,
)
from norms.verdict import FetchDecision, UsageDecision, Verdict

__all__ = [
    "AI_USAGES",
    "ALL_USAGES",
    "DEFAULT_EFFECTS",
    "Effect",
    "Evidence",
    "FetchDecision",
    "Gate",
    "Grants",
    "Obligation",
    "ObligationKind",
    "Signal",
    "SignalError",
    "Statement",
    "Usage",
    "UsageDecision",
    "Verdict",
    "combine",
    "evaluate",
]
