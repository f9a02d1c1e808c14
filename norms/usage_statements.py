"""Turning a standard's ``key -> allowed`` reading into Statements, and combining them.

Shared by the Content-Signal and AI Preferences readers (robots.txt lines and
HTTP headers alike), so the vocabulary table is consulted in one place and
"most restrictive" means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from norms.model import Effect, Evidence, Statement, Usage
from norms.vocabulary import usages_for


def statements_for(standard: str, prefs: Mapping[str, bool], evidence: Evidence) -> list[Statement]:
    """One Statement per usage each key speaks about (``norms.vocabulary``); unknown keys say nothing."""
    out: list[Statement] = []
    for key, allowed in prefs.items():
        effect = Effect.ALLOW if allowed else Effect.DENY
        for usage, derived in usages_for(standard, key):
            out.append(Statement(usage=usage, effect=effect, evidence=evidence, derived=derived))
    return out


def most_restrictive(statements: Iterable[Statement]) -> list[Statement]:
    """Keep one Statement per usage: a deny beats an allow, a direct reading beats a derived one.

    Used wherever several statements of one standard apply with equal standing
    (identical robots.txt scope, several header lines): these standards give no
    tie-break, so the publisher's restriction wins (AIPREF vocab 5.1 does the
    same across statements). Among equals the first one seen is kept.
    """
    best: dict[Usage, Statement] = {}
    for st in statements:
        cur = best.get(st.usage)
        if cur is None or _rank(st) > _rank(cur):
            best[st.usage] = st
    return [best[u] for u in Usage if u in best]


def _rank(st: Statement) -> tuple[bool, bool]:
    return (st.effect is Effect.DENY, not st.derived)
