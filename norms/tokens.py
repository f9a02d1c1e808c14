"""One product token per purpose class, so a publisher can say yes to one use and no to another.

As OpenAI runs OAI-SearchBot, GPTBot and ChatGPT-User, fairfetch crawls as
``<base>-search`` for ``search``, ``<base>-ai`` for ``ai-index`` and
``ai-input`` and ``<base>-train`` for ``ai-train`` (base: the operator's
``--user-agent``, ``fairfetch`` by default). robots.txt groups are chosen per
purpose with a fallback like Google's sub-crawlers to Googlebot: the purpose
token's group if robots.txt has one, else the base token's, else ``*``.
Page-level directives (``<meta name="fairfetch">``, ``X-Robots-Tag:
fairfetch: ...``) addressed to the base token bind every purpose token of its
family too: a publisher who wrote to ``fairfetch`` meant all of it.
"""

from __future__ import annotations

from norms.model import Usage

PURPOSE_CLASS: dict[Usage, str] = {
    Usage.SEARCH: "search",
    Usage.AI_INDEX: "ai",
    Usage.AI_INPUT: "ai",
    Usage.AI_TRAIN: "train",
}
_SUFFIXES = tuple(f"-{c}" for c in sorted(set(PURPOSE_CLASS.values())))


def purpose_token(base: str, usage: Usage) -> str:
    """``fairfetch`` + ``ai-train`` -> ``fairfetch-train``."""
    return f"{base}-{PURPOSE_CLASS[usage]}"


def purpose_tokens(base: str) -> dict[str, tuple[Usage, ...]]:
    """Each purpose token of ``base`` and the usages it crawls for: ``fairfetch-ai`` -> ai-index, ai-input."""
    out: dict[str, list[Usage]] = {}
    for usage in PURPOSE_CLASS:
        out.setdefault(purpose_token(base, usage), []).append(usage)
    return {token: tuple(usages) for token, usages in out.items()}


def token_family(token: str) -> frozenset[str]:
    """The names a page directive may address us by: the token and, for a purpose token, its base."""
    token = token.lower()
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix):
            return frozenset({token, token[: -len(suffix)]})
    return frozenset({token})
