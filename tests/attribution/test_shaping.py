"""Focused rules of ``shape`` that the golden cases do not pin down on their own."""

from __future__ import annotations

from attribution import Policy, QueryKind, Source, shape

FACT = "The Battle of Hastings was fought on 14 October 1066 near the town of Battle."
# Sources are whole pages: a sentence copied from a 16-word page would be half of
# the work and trimmed by the share limits, which is not what these tests are about.
PAGE = " ".join(
    f"Unrelated filler sentence number {n} about abbeys, ridges and visitor parking."
    for n in range(20)
)


def src(url: str, text: str = FACT, **kw: object) -> Source:
    return Source.from_dict({"url": url, "text": f"{text}\n\n{PAGE}", **kw})


def test_quick_fact_attribution_goes_before_the_full_stop_outside_the_claim_span() -> None:
    museum = src(
        "https://www.britishmuseum.org/visit",
        "Opening hours: open daily from 10.00 to 17.00, Fridays until 20.30.",
        source_class="canonical",
        publisher="the British Museum",
    )
    r = shape("Open daily from 10.00 to 17.00, Fridays until 20.30.", [museum], kind="quick_fact")
    assert (
        r.text
        == "Open daily from 10.00 to 17.00, Fridays until 20.30 (according to the British Museum)."
    )
    (c,) = [c for c in r.citations if c.role == "support"]
    assert c.text == "Open daily from 10.00 to 17.00, Fridays until 20.30"


def test_common_knowledge_needs_distinct_registrable_domains() -> None:
    same_site = [
        src("https://en.wikipedia.org/wiki/Hastings"),
        src("https://de.wikipedia.org/wiki/Hastings"),
        src("https://simple.wikipedia.org/wiki/Hastings"),
    ]
    r = shape(FACT, same_site)
    assert (
        r.kind is QueryKind.PRIMARY_SOURCE and r.citations
    )  # one domain, three pages: not common knowledge
    three_sites = [
        src("https://a.example/x"),
        src("https://b.example.org/y"),
        src("https://c.example.net/z"),
    ]
    r = shape(FACT, three_sites)
    assert r.kind is QueryKind.COMMON_KNOWLEDGE and not r.citations
    assert shape(FACT, three_sites, policy=Policy(common_knowledge_min_domains=4)).citations


def test_caller_kind_overrides_inference_and_plain_strings_work() -> None:
    three_sites = [
        src("https://a.example/x"),
        src("https://b.example.org/y"),
        src("https://c.example.net/z"),
    ]
    r = shape(FACT, three_sites, kind="contested")
    assert r.kind is QueryKind.CONTESTED and r.kind_reason == "given by the caller"
    assert "read the full article" in r.text


def test_unknown_kind_is_a_clear_error() -> None:
    try:
        shape(FACT, [], kind="breaking_news")
    except ValueError as exc:
        assert "unknown query kind 'breaking_news'" in str(exc)
    else:  # pragma: no cover - the assertion above is the test
        raise AssertionError("expected a ValueError")


def test_rapidly_evolving_without_a_date_says_so() -> None:
    news = src("https://news.example/live", source_class="canonical", publisher="News Example")
    r = shape(FACT, [news], kind="rapidly_evolving")
    assert "News Example gives no last-update date; see it for current information." in r.text


def test_code_over_the_limit_is_replaced_whole_by_a_link_line() -> None:
    code = "```python\nresult = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False, separators=(',', ': '), default=str)\n```"
    repo = src(
        "https://github.com/example/project/blob/main/util.py",
        "def dump(data):\n    result = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False, separators=(',', ': '), default=str)\n    return result\n",
        source_class="aggregator",
        platform="github",
        title="util.py in example/project",
    )
    policy = Policy.from_dict({"limits": {"aggregator": {"max_quote_words": 6}}})
    r = shape("Use this:\n\n" + code + "\n\nIt works.", [repo], policy=policy)
    # Never shortened inside: the whole block becomes one line that links the file.
    assert r.text == "Use this:\n\nThe code is available at “util.py in example/project” on GitHub.\n\nIt works."
    assert any(a.kind == "remove_quote" and "code block" in a.detail for a in r.actions)
    (c,) = [c for c in r.citations if c.role == "pointer"]
    assert c.url.endswith("/util.py") and c.text == "“util.py in example/project” on GitHub"


def test_supporters_per_sentence_are_bounded() -> None:
    many = [src(f"https://site{i}.example/page") for i in range(30)]
    r = shape(FACT, many, kind="primary_source", policy=Policy(max_supporters=2))
    assert len({c.url for c in r.citations if c.role == "support"}) <= 2


def test_answer_already_naming_the_source_keeps_its_wording() -> None:
    wiki = src("https://en.wikipedia.org/wiki/Battle_of_Hastings", source_class="community")
    answer = "Wikipedia says the Battle of Hastings was fought on 14 October 1066 near the town of Battle."
    r = shape(answer, [wiki], kind="primary_source")
    assert r.text == answer and r.citations
