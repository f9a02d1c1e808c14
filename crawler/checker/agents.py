"""The crawler product tokens the checker (and ``fairfetch evaluate --agent known``) decide for."""

from __future__ import annotations

from norms.model import ALL_USAGES, Usage
from norms.tokens import purpose_tokens

# Product tokens of widely deployed AI crawlers (ai.robots.txt, signals.md section 11).
KNOWN_AGENTS: tuple[str, ...] = (
    "GPTBot",
    "OAI-SearchBot",
    "ChatGPT-User",
    "ClaudeBot",
    "Claude-SearchBot",
    "Claude-User",
    "Google-Extended",
    "Applebot-Extended",
    "PerplexityBot",
    "CCBot",
    "Bytespider",
    "meta-externalagent",
)

# Our own base token: the checker fetches as fairfetch would, so its rows come first.
OWN_AGENT = "fairfetch"
CHECKED_AGENTS: tuple[str, ...] = (OWN_AGENT, *KNOWN_AGENTS)


def checked_agents(base: str = OWN_AGENT) -> tuple[str, ...]:
    """The default rows: the base token (``--user-agent``) and every known AI crawler."""
    return (base, *KNOWN_AGENTS)


def matrix_rows(agents: tuple[str, ...], base: str = OWN_AGENT) -> list[tuple[str, str | None, tuple[Usage, ...]]]:
    """(row token, its base token or None, the usages it is judged for), one per matrix row.

    The base token stands for its purpose tokens (``fairfetch-search``, ``-ai``,
    ``-train``: norms.tokens), each judged only for the uses it crawls for, as
    the crawler sends them; a purpose token named on its own is that one row.
    """
    ours = purpose_tokens(base)
    lowered = {token.lower(): token for token in ours}
    rows: list[tuple[str, str | None, tuple[Usage, ...]]] = []
    for agent in agents:
        if agent.lower() == base.lower():
            rows.extend((token, base, usages) for token, usages in ours.items())
        elif agent.lower() in lowered:
            token = lowered[agent.lower()]
            rows.append((token, base, ours[token]))
        else:
            rows.append((agent, None, ALL_USAGES))
    return rows


def licence_tokens(agents: tuple[str, ...], base: str = OWN_AGENT) -> tuple[str, ...]:
    """The tokens whose robots.txt ``License:`` lines apply: purpose tokens read their base's, as the crawler does."""
    return tuple(dict.fromkeys(of or token for token, of, _ in matrix_rows(agents, base)))


def page_agents(agents: tuple[str, ...], base: str = OWN_AGENT) -> tuple[str, ...]:
    """The names a page's ``<meta name=...>`` may address: the rows' tokens and the base token."""
    return tuple(dict.fromkeys([*agents, base, *(token for token, _, _ in matrix_rows(agents, base))]))
