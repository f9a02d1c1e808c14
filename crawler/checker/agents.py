"""The crawler product tokens the checker (and ``fairfetch evaluate --agent known``) decide for."""

from __future__ import annotations

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

# Our own token: the checker fetches as fairfetch would, so its row comes first.
OWN_AGENT = "fairfetch"
CHECKED_AGENTS: tuple[str, ...] = (OWN_AGENT, *KNOWN_AGENTS)
