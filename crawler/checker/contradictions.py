"""Signals that contradict each other: each is honoured (the most restrictive wins), but one is a mistake.

A publisher who lets GPTBot in by name while their licence prohibits training,
or who says ``ai-train=no`` in robots.txt and ``ai-train`` in ``<permits>``,
almost certainly meant one of the two. fairfetch applies the restriction;
the checker says which two lines disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from crawler.checker.problems import Problem, problem
from crawler.checker.signals import SiteSignals
from norms.content_signal import read_content_signal_headers
from norms.model import Effect, Signal, Statement, Usage
from norms.rsl import LicenseSource
from norms.tdmrep import tdmrep_statements

# The use each known crawler's product token is for (from the operators' own documentation).
AGENT_USAGE: dict[str, Usage] = {
    "GPTBot": Usage.AI_TRAIN,
    "ClaudeBot": Usage.AI_TRAIN,
    "Google-Extended": Usage.AI_TRAIN,
    "Applebot-Extended": Usage.AI_TRAIN,
    "CCBot": Usage.AI_TRAIN,
    "Bytespider": Usage.AI_TRAIN,
    "meta-externalagent": Usage.AI_TRAIN,
    "OAI-SearchBot": Usage.AI_INDEX,
    "Claude-SearchBot": Usage.AI_INDEX,
    "PerplexityBot": Usage.AI_INDEX,
    "ChatGPT-User": Usage.AI_INPUT,
    "Claude-User": Usage.AI_INPUT,
}


def _permitting(sources: Iterable[LicenseSource], url: str, usage: Usage) -> LicenseSource | None:
    for source in sources:
        terms = source.document.terms_for(url) if source.document is not None else None
        if terms is not None and terms.ruling(usage).permitted:
            return source
    return None


def _prohibiting(sources: Iterable[LicenseSource], url: str, usage: Usage) -> LicenseSource | None:
    for source in sources:
        terms = source.document.terms_for(url) if source.document is not None else None
        if terms is not None and terms.ruling(usage).permitted is False and "prohibited" in terms.ruling(usage).reason:
            return source
    return None


def _denies(statements: Iterable[Statement], signal: Signal, usage: Usage) -> Statement | None:
    return next((s for s in statements if s.evidence.signal is signal and s.usage is usage
                 and s.effect is Effect.DENY and not s.derived), None)


def contradictions(url: str, agents: tuple[str, ...], site: SiteSignals) -> list[Problem]:
    """Every pair of signals that disagree about a use of ``url``, once each (``agents``: licence tokens)."""
    out: list[Problem] = []
    robots, tdmrep = site.robots, site.tdmrep
    lines, doc, directives = site.page.lines, site.page.doc, site.page.directives
    robots_url = robots.source_url or "robots.txt"
    for agent in agents:
        sources = site.licences_for(agent)
        usage = AGENT_USAGE.get(agent)
        if usage is not None and robots.outcome == "parsed" and robots.group_for(agent) == agent.lower() \
                and robots.allowed(url, agent):
            banning = _prohibiting(sources, url, usage)
            if banning is not None:
                rule = robots.match(url, agent).rule
                out.append(problem(
                    "contradiction-robots-licence", robots_url,
                    f"robots.txt has a group for {agent} that allows this URL, but the licence "
                    f"{banning.ref.url} prohibits {usage.value}, which is what {agent} is for",
                    line=rule.line if rule is not None else None, element=f"User-agent: {agent}",
                    suggestion=agent,
                ))
        permits_train = _permitting(sources, url, Usage.AI_TRAIN)
        if permits_train is not None:
            said = _denies(robots.statements(url, agent), Signal.CONTENT_SIGNAL, Usage.AI_TRAIN) or _denies(
                read_content_signal_headers(lines, url).statements, Signal.CONTENT_SIGNAL, Usage.AI_TRAIN)
            if said is not None:
                ev = said.evidence
                out.append(problem(
                    "contradiction-signal-licence", ev.source,
                    f"Content-Signal '{ev.raw}' says ai-train=no, but the licence {permits_train.ref.url} "
                    "permits ai-train; the restriction wins",
                    line=ev.line, element=ev.element,
                ))
    sources = [s for group in site.licences.values() for s in group] + site.page_licences
    if directives is not None and directives.noai:
        permits_input = _permitting(sources, url, Usage.AI_INPUT)
        if permits_input is not None:
            noai = next((e for e in directives.evidence if "noai" in e.raw.lower()), None)
            out.append(problem(
                "contradiction-noai-licence", url,
                f"the page says noai, but the licence {permits_input.ref.url} permits ai-input; "
                "the restriction wins",
                line=noai.line if noai else None, element=noai.element if noai else None,
            ))
    if tdmrep is not None or lines or doc is not None:
        reserved = _denies(tdmrep_statements(url, file=tdmrep, headers=lines, html=doc),
                           Signal.TDMREP, Usage.AI_TRAIN)
        if reserved is not None:
            permitted = next(((u, s) for u in (Usage.AI_TRAIN, Usage.AI_INPUT)
                              if (s := _permitting(sources, url, u)) is not None), None)
            if permitted is not None:
                ev = reserved.evidence
                out.append(problem(
                    "contradiction-tdmrep-licence", ev.source,
                    f"TDMRep reserves text and data mining ({ev.raw}), but the licence {permitted[1].ref.url} "
                    f"permits {permitted[0].value}; the reservation wins",
                    line=ev.line, element=ev.element,
                ))
    return out
