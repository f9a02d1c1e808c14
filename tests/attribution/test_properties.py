"""Property tests: offsets are exact, and every input either works or fails with a clear error."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution import Policy, PolicyError, QueryKind, ShapedAnswer, Source, SourceError, shape
from attribution.segment import sentence_spans
from attribution.text import tokenize
from norms.model import SignalError

WORDS = [
    "battle", "hastings", "harold", "william", "norman", "english", "army", "ridge", "abbey", "king",
    "the", "of", "was", "in", "and", "a", "to", "fought", "1066", "1067", "14", "october",
    "Straße", "ﬁeld", "Ｈａｓｔｉｎｇｓ", "Öl", "東京", "élan", "naïve", "ΣΊΣΥΦΟΣ", "😀",
]  # fmt: skip
PUNCT = [" ", " ", " ", ", ", ". ", "! ", "? ", "\n", "\n\n", " — ", "“", "”", "'s "]

# Mostly words separated by spaces, with sentence breaks and typography mixed in.
SEPARATORS = [" "] * 12 + PUNCT


def prose(min_size: int = 0) -> st.SearchStrategy[str]:
    pairs = st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)).map("".join)
    return st.lists(pairs, min_size=min_size, max_size=120).map("".join)


text_pieces = prose()


@st.composite
def scenario(draw: st.DrawFn) -> tuple[str, list[Source], QueryKind | None]:
    """Sources of mixed classes and decisions, and an answer that copies pieces of them."""
    n = draw(st.integers(1, 4))
    classes = ["canonical", "aggregator", "community", "unknown"]
    hosts = [
        "en.wikipedia.org",
        "www.britannica.com",
        "example.org",
        "www.youtube.com",
        "github.com",
    ]
    sources = []
    for i in range(n):
        text = draw(prose(min_size=20))
        sources.append(
            Source(
                url=f"https://{draw(st.sampled_from(hosts))}/page/{i}",
                title=draw(st.none() | st.sampled_from(["Battle", "Ｔｉｔｌｅ <b>&amp;", "éé"])),
                text=text,
                source_class=draw(st.sampled_from(classes)),
                decisions={"ai-input": draw(st.sampled_from([True, True, True, False]))},
                last_modified=draw(st.none() | st.just("2026-11-20T00:00:00Z")),
                retrieved_at="2026-11-21T00:00:00Z",
            )
        )
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        src = draw(st.sampled_from(sources)).text
        if src and draw(st.sampled_from([True, True, True, False])):
            a = draw(st.integers(0, len(src)))
            b = draw(st.integers(a, min(len(src), a + 400)))
            parts.append(src[a:b])
        else:
            parts.append(draw(text_pieces))
    answer = draw(st.sampled_from([". ", " ", "\n"])).join(parts)
    kind = draw(st.none() | st.sampled_from(list(QueryKind)))
    return answer, sources, kind


def check_offsets(result: ShapedAnswer, sources: list[Source]) -> None:
    text = result.text
    for c in result.citations:
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.text
        if c.source_start is not None:
            assert c.source_end is not None
            src = sources[c.source_index].text
            assert 0 <= c.source_start < c.source_end <= len(src)
            assert src[c.source_start : c.source_end] == c.cited_text
        assert sources[c.source_index].url == c.url
        assert sources[c.source_index].allowed("ai-input")
    for a in result.to_openai_annotations():
        assert text[a["start_index"] : a["end_index"]]
    passed = [s for s in sources if s.allowed("ai-input")]
    for a in result.to_anthropic_citations():
        src = passed[a["document_index"]].text  # counted over the documents passed on
        assert src[a["start_char_index"] : a["end_char_index"]] == a["cited_text"]
    assert "".join(b["text"] for b in result.to_anthropic_content()) == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_citation_offsets_are_exact(case: tuple[str, list[Source], QueryKind | None]) -> None:
    answer, sources, kind = case
    result = shape(answer, sources, kind=kind, query="what is the latest on hastings?")
    check_offsets(result, sources)
    # Denied sources never appear in the output's citations.
    denied = {s.url for s in sources if not s.allowed("ai-input")}
    assert denied.isdisjoint({c.url for c in result.citations})
    assert denied == {d.url for d in result.dropped_sources}


@settings(max_examples=60, deadline=None)
@given(scenario(), st.integers(2, 12), st.integers(10, 200))
def test_offsets_stay_exact_after_trimming(
    case: tuple[str, list[Source], QueryKind | None], words: int, chars: int
) -> None:
    """Tight limits force trimming and removal everywhere; offsets must survive it."""
    answer, sources, kind = case
    tight = {
        "max_quote_words": words,
        "max_quote_chars": chars,
        "max_quotes": 1,
        "max_share": 0.01,
        "min_run_words": 2,
    }
    policy = Policy.from_dict(
        {
            "limits": {
                k: tight
                for k in ("canonical", "aggregator", "community", "community-closed", "unknown")
            }
        }
    )
    result = shape(answer, sources, kind=kind, policy=policy)
    check_offsets(result, sources)
    for c in result.citations:
        if c.role == "quote":
            assert len(tokenize(c.text)[0]) <= words
            assert len(c.text) <= chars


def test_non_ascii_offsets_in_a_worked_example() -> None:
    src = Source(
        url="https://de.wikipedia.org/wiki/Schlacht_bei_Hastings",
        text="Die Schlacht bei Hastings fand am 14. Oktober 1066 statt. Wilhelm der Eroberer besiegte König Harold II.",
        source_class="community",
    )
    answer = (
        "Ｄｉｅ Schlacht bei Hastings fand am 14. Oktober 1066 statt — König Harold II. fiel. 😀"
    )
    result = shape(answer, [src], kind="primary_source")
    check_offsets(result, [src])
    assert result.citations and result.citations[0].text.startswith("Ｄｉｅ Schlacht")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_policy_from_toml_never_crashes(data: bytes | str) -> None:
    try:
        Policy.from_toml(data)
    except PolicyError as exc:
        assert isinstance(exc, SignalError) and str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
source_keys = st.sampled_from(
    [
        "url",
        "title",
        "text",
        "source_class",
        "platform",
        "decisions",
        "last_modified",
        "license",
        "obligations",
        "x",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(source_keys, json_values, max_size=6) | json_values | st.binary(max_size=100)
)
def test_source_from_dict_never_crashes(data: object) -> None:
    try:
        Source.from_dict(data)  # type: ignore[arg-type]
    except SourceError as exc:
        assert isinstance(exc, SignalError) and str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable + "。！？…“”’😀Σ\u00a0", max_size=300))
def test_sentences_cover_the_text_in_order(text: str) -> None:
    spans = sentence_spans(text, "en")
    last = 0
    for a, b in spans:
        assert last <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        last = b
    # Every word of the text lies inside some sentence.
    _, starts, _ = tokenize(text)
    for s in starts:
        assert any(a <= s < b for a, b in spans)


FIXED_SOURCES = [
    Source(
        url="https://en.wikipedia.org/wiki/X",
        text="Ｈａｓｔｉｎｇｓ 1066 — the Norman ﬁeld. " * 20,
        source_class="community",
    ),
    Source(
        url="https://b.example/",
        text="Straße 東京 1066 élan naïve ΣΊΣΥΦΟΣ. " * 20,
        source_class="aggregator",
    ),
]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.sampled_from([None, *QueryKind]))
def test_shape_accepts_any_text(answer: str, kind: QueryKind | None) -> None:
    result = shape(answer, FIXED_SOURCES, kind=kind, query=answer[:40])
    check_offsets(result, FIXED_SOURCES)
