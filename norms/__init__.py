"""fairfetch norms: pure, I/O-free readers of publisher signals and one decision per URL and usage."""

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

__all__ = [
    "AI_USAGES",
    "ALL_USAGES",
    "Effect",
    "Evidence",
    "Gate",
    "Grants",
    "Obligation",
    "ObligationKind",
    "Signal",
    "SignalError",
    "Statement",
    "Usage",
]
