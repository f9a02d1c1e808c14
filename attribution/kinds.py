"""Query kinds: what sort of question an answer responds to decides how it is attributed."""

from __future__ import annotations

from enum import StrEnum


class QueryKind(StrEnum):
    """How an answer is attributed (see docs/ai-teams.md for the rule behind each).

    - ``common_knowledge``: at least N independent domains agree and nobody
      disputes it; stated directly, no link required.
    - ``primary_source``: one source carries the claim; in-text attribution
      ("According to Wikipedia, ...") plus a link.
    - ``contested``: sources disagree or the source marks a dispute; key points
      per side, each attributed, and a pointer to the full article.
    - ``rapidly_evolving``: the source changed recently or the topic is
      volatile; the source's last update is noted ("as of <date>").
    - ``quick_fact``: hours, fees, specs from a canonical source; answered
      directly with attribution.
    - ``long_form``: drawn from a long work; basic information plus a pointer
      to the depth at the source.
    """

    COMMON_KNOWLEDGE = "common_knowledge"
    PRIMARY_SOURCE = "primary_source"
    CONTESTED = "contested"
    RAPIDLY_EVOLVING = "rapidly_evolving"
    QUICK_FACT = "quick_fact"
    LONG_FORM = "long_form"

    @classmethod
    def parse(cls, value: QueryKind | str) -> QueryKind:
        """Accept the enum or its plain string value; a clear error otherwise."""
        try:
            return cls(value.strip().lower().replace("-", "_") if isinstance(value, str) else value)
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown query kind {value!r}; expected one of: {names}") from None
