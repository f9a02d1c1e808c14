"""``evaluate`` for a crawler with one product token per purpose class (:mod:`norms.tokens`).

Each declared purpose is judged under the robots.txt group of its own token
(purpose token, else base token, else ``*``), so ``User-agent: fairfetch-train
/ Disallow: /`` keeps a training crawl out even where the base group allows
everything, and ``User-agent: fairfetch-search / Allow: /`` lets search in
where the base group says no. The URL may be requested when some declared
purpose's group allows it; each usage's decision is the one made under its own
token, so a page fetched for search is never stored as usable for training
unless the training token's group allows that too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from norms.evaluate import evaluate
from norms.model import ALL_USAGES, Usage
from norms.robots_file import LEADING_TOKEN
from norms.tokens import purpose_token
from norms.verdict import Verdict

if TYPE_CHECKING:
    from norms.robots import RobotsTxt


def robots_token(robots: RobotsTxt | None, base: str, usage: Usage) -> str:
    """The token whose robots.txt group governs ``usage``: its purpose token if a group names it, else ``base``."""
    token = purpose_token(base, usage)
    if robots is not None and robots.group_for(token) not in (None, "*"):
        return token
    return base


class GroupChoice(BaseModel):
    """Which robots.txt group governs a purpose, and why: for a publisher to see (the checker)."""

    model_config = ConfigDict(frozen=True)

    token: str  # the token the crawler obeys robots.txt as (``robots_token``)
    chosen: Literal["purpose", "base", "*", "none"]  # the purpose token's group, the base's, ``*``, no group
    group: str | None  # the User-agent value as matched (lowercase), ``*``, or None
    lines: tuple[int, ...] = ()  # the User-agent line naming it in each group applied


def governing_group(robots: RobotsTxt | None, base: str, usage: Usage) -> GroupChoice:
    """The group ``usage`` is judged under (``robots_token``, then RFC 9309 selection) and its lines."""
    token = robots_token(robots, base, usage)
    label = robots.group_for(token) if robots is not None else None
    if label is None or robots is None:
        return GroupChoice(token=token, chosen="none", group=None)
    chosen: Literal["purpose", "base", "*"] = "*" if label == "*" else "base" if token == base else "purpose"
    parsed = robots.parsed
    lines = []
    for index in parsed.star if label == "*" else parsed.tokens.get(label, []):
        group = parsed.groups[index]
        lines.append(next((line for value, line in zip(group.agents, group.agent_lines, strict=True)
                           if _names(value, label)), group.agent_lines[0]))
    return GroupChoice(token=token, chosen=chosen, group=label, lines=tuple(lines))


def _names(value: str, label: str) -> bool:
    name = value.lower()
    lead = LEADING_TOKEN.match(name)
    return name == label or (lead is not None and lead.group() == label)


def tokens_for(robots: RobotsTxt | None, base: str, purposes: Iterable[Usage]) -> dict[str, tuple[Usage, ...]]:
    """Token -> the declared purposes it speaks for, in declaration order."""
    grouped: dict[str, list[Usage]] = {}
    for usage in purposes:
        grouped.setdefault(robots_token(robots, base, usage), []).append(usage)
    return {token: tuple(usages) for token, usages in grouped.items()}


def evaluate_purposes(url: str, *, base_token: str, purposes: Iterable[Usage | str] = ALL_USAGES,
                      robots: RobotsTxt | None = None, **signals: Any) -> Verdict:
    """Like :func:`norms.evaluate`, each purpose judged under its own token (see the module docstring).

    ``signals`` are :func:`norms.evaluate`'s other keyword arguments. With a
    single governing token (the common case: robots.txt names no purpose
    token) this is exactly one ``evaluate`` call.
    """
    wanted = tuple(dict.fromkeys(Usage(p) for p in purposes))
    groups = tokens_for(robots, base_token, wanted)
    if len(groups) == 1:
        (token, _), = groups.items()
        return evaluate(url, user_agent=token, purposes=wanted, robots=robots, **signals)
    verdicts = {token: evaluate(url, user_agent=token, purposes=usages, robots=robots, **signals)
                for token, usages in groups.items()}
    usages = dict(verdicts.get(base_token, next(iter(verdicts.values()))).usages)
    for token, declared in groups.items():
        for usage in declared:
            usages[usage] = verdicts[token].usages[usage]
    allowing = [v for v in verdicts.values() if v.fetch.allowed]
    deciding = allowing[0] if allowing else verdicts[next(iter(groups))]
    evidence = tuple(dict.fromkeys(e for v in verdicts.values() for e in v.evidence))
    selectors = tuple(dict.fromkeys(s for v in verdicts.values() for s in v.exclude_selectors))
    findings = tuple(dict.fromkeys(f for v in verdicts.values() for f in v.findings))
    return Verdict(url=url, user_agent=" ".join(groups), purposes=wanted, fetch=deciding.fetch,
                   usages=usages, evidence=evidence, exclude_selectors=selectors, findings=findings)


def request_tokens(base: str, verdict: Verdict) -> tuple[str, ...]:
    """The purpose tokens a request for ``verdict`` goes out under: one per class it is allowed for."""
    allowed = verdict.permitted_purposes or verdict.purposes
    return tuple(dict.fromkeys(purpose_token(base, usage) for usage in allowed))
