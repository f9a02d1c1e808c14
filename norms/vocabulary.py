"""One table that maps every standard's vocabulary onto our four usages.

Each entry says which usages a token speaks about and whether that reading is
*direct* (the standard says so) or *derived* (a conservative inference we make
to protect the publisher, recorded as such in the evidence). The same table is
rendered in docs/norms.md.

| standard        | token            | search | ai-index | ai-input | ai-train |
|-----------------|------------------|--------|----------|----------|----------|
| RSL             | all              | D      | D        | D        | D        |
| RSL             | ai-all           |        | D        | D        | D        |
| RSL             | search           | D      |          |          |          |
| RSL             | ai-index         |        | D        |          |          |
| RSL             | ai-input         |        |          | D        |          |
| RSL             | ai-train         |        |          |          | D        |
| Content-Signal  | search           | D      |          |          |          |
| Content-Signal  | ai-input         |        | d        | D        |          |
| Content-Signal  | ai-train         |        |          |          | D        |
| AI Preferences  | search           | D      |          |          |          |
| AI Preferences  | train-ai         |        |          |          | D        |
| AI Preferences  | ai-use           |        | d        | D        |          |
| AI Preferences  | train-genai (*)  |        |          |          | d        |
| TDMRep          | tdm-reservation  |        | d        | d        | D        |
| robots meta/tag | noai             |        | d        | d        | D        |
| robots meta/tag | noimageai (**)   |        |          |          |          |
| robots meta/tag | noindex / none   | D      | d        | d        |          |
| robots meta/tag | nosnippet        | D(***) |          | D        |          |
| robots meta/tag | max-snippet:0    | D(***) |          | D        |          |
| robots meta/tag | noarchive        |        |          | D        | D        |
| robots meta/tag | nocache          |        |          | D(****)  | D(****)  |

(*) a label of an older AI Preferences draft, honoured as a documented local policy.
(**) ``noimageai`` speaks about images only; it is recorded as evidence and
becomes an ``exclude-parts`` obligation for images, not a page-level denial.
(***) ``nosnippet`` keeps the page in a search index but without excerpts: a
``snippet-limit`` obligation of 0 rather than a denial of ``search``.
(****) Bing semantics: only URL, title and snippet may be used, expressed as a
``snippet-limit`` obligation on an allow.
"""

from __future__ import annotations

from norms.model import Usage

S, IX, IN, TR = Usage.SEARCH, Usage.AI_INDEX, Usage.AI_INPUT, Usage.AI_TRAIN

# (standard, token) -> ((usage, derived), ...)
VOCABULARY: dict[tuple[str, str], tuple[tuple[Usage, bool], ...]] = {
    ("rsl", "all"): ((S, False), (IX, False), (IN, False), (TR, False)),
    ("rsl", "ai-all"): ((IX, False), (IN, False), (TR, False)),
    ("rsl", "search"): ((S, False),),
    ("rsl", "ai-index"): ((IX, False),),
    ("rsl", "ai-input"): ((IN, False),),
    ("rsl", "ai-train"): ((TR, False),),
    ("content-signal", "search"): ((S, False),),
    ("content-signal", "ai-input"): ((IN, False), (IX, True)),
    ("content-signal", "ai-train"): ((TR, False),),
    ("aipref", "search"): ((S, False),),
    ("aipref", "train-ai"): ((TR, False),),
    ("aipref", "ai-use"): ((IN, False), (IX, True)),
    ("aipref", "train-genai"): ((TR, True),),
    ("tdmrep", "tdm-reservation"): ((TR, False), (IN, True), (IX, True)),
    ("robots-tag", "noai"): ((TR, False), (IN, True), (IX, True)),
    ("robots-tag", "noindex"): ((S, False), (IN, True), (IX, True)),
    ("robots-tag", "none"): ((S, False), (IN, True), (IX, True)),
    ("robots-tag", "nosnippet"): ((IN, False),),
    ("robots-tag", "max-snippet:0"): ((IN, False),),
    ("robots-tag", "noarchive"): ((IN, False), (TR, False)),
}


def usages_for(standard: str, token: str) -> tuple[tuple[Usage, bool], ...]:
    """The ``(usage, derived)`` pairs a token of ``standard`` speaks about; empty if unknown."""
    return VOCABULARY.get((standard, token.strip().lower()), ())
