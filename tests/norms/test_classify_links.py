"""links_for and the registry: derived attribution links for real platform URLs, and operator overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.classify import DerivedLinks, Registry, SourceClass, links_for, load_registry
from norms.model import SignalError

CASES = [
    (
        "https://en.wikipedia.org/wiki/Albert_Einstein",
        {
            "permalink": "https://en.wikipedia.org/wiki/Albert_Einstein",
            "edit_history_url": "https://en.wikipedia.org/w/index.php?title=Albert_Einstein&action=history",
            "discussion_url": "https://en.wikipedia.org/wiki/Talk:Albert_Einstein",
            "license": "CC BY-SA 4.0",
        },
    ),
    (
        "https://de.wikipedia.org/w/index.php?title=Berlin&oldid=123456",
        {
            "permalink": "https://de.wikipedia.org/w/index.php?title=Berlin&oldid=123456",
            "edit_history_url": "https://de.wikipedia.org/w/index.php?title=Berlin&action=history",
            "discussion_url": None,
        },
    ),
    (
        "https://en.wikipedia.org/wiki/Talk:Albert_Einstein",
        {
            "edit_history_url": "https://en.wikipedia.org/w/index.php?title=Talk:Albert_Einstein&action=history",
            "discussion_url": "https://en.wikipedia.org/wiki/Talk:Albert_Einstein",
        },
    ),
    (
        "https://en.wikipedia.org/wiki/Help:Contents",
        {"edit_history_url": "https://en.wikipedia.org/w/index.php?title=Help:Contents&action=history", "discussion_url": None},
    ),
    (
        "https://starwars.fandom.com/wiki/Yoda",
        {
            "edit_history_url": "https://starwars.fandom.com/wiki/Yoda?action=history",
            "license_url": "https://creativecommons.org/licenses/by-sa/3.0/",
        },
    ),
    (
        "https://stackoverflow.com/questions/231767/what-does-the-yield-keyword-do?noredirect=1",
        {
            "permalink": "https://stackoverflow.com/q/231767",
            "edit_history_url": "https://stackoverflow.com/posts/231767/revisions",
            "discussion_url": "https://stackoverflow.com/questions/231767",
        },
    ),
    (
        "https://unix.stackexchange.com/a/4242",
        {"edit_history_url": "https://unix.stackexchange.com/posts/4242/revisions"},
    ),
    (
        "https://github.com/python/cpython/blob/main/Lib/os.py",
        {
            "edit_history_url": "https://github.com/python/cpython/commits/main/Lib/os.py",
            "discussion_url": "https://github.com/python/cpython/issues",
            "license": None,
        },
    ),
    (
        "https://github.com/python/cpython/issues/101",
        {"discussion_url": "https://github.com/python/cpython/issues/101", "edit_history_url": None},
    ),
    (
        "https://github.com/python/cpython",
        {"edit_history_url": "https://github.com/python/cpython/commits"},
    ),
    (
        "https://old.reddit.com/r/Python/comments/abc123/some_title/",
        {
            "permalink": "https://www.reddit.com/r/Python/comments/abc123/",
            "discussion_url": "https://www.reddit.com/r/Python/comments/abc123/",
            "edit_history_url": None,
        },
    ),
    ("https://youtu.be/dQw4w9WgXcQ", {"permalink": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}),
    (
        "https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        {"permalink": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
    ),
    (
        "https://news.ycombinator.com/item?id=8863",
        {"discussion_url": "https://news.ycombinator.com/item?id=8863"},
    ),
    (
        "https://www.openstreetmap.org/way/4711",
        {"edit_history_url": "https://www.openstreetmap.org/way/4711/history", "license": "ODbL 1.0"},
    ),
    (
        "https://meta.discourse.org/t/what-is-discourse/12345/7",
        {"permalink": "https://meta.discourse.org/t/what-is-discourse/12345"},
    ),
    (
        "https://medium.com/@alice/why-tests-matter-1a2b3c4d5e6f",
        {"permalink": "https://medium.com/p/1a2b3c4d5e6f"},
    ),
    (
        "https://alice.substack.com/p/hello-world",
        {"discussion_url": "https://alice.substack.com/p/hello-world/comments"},
    ),
    (
        "https://www.tripadvisor.fr/Hotel_Review-g187147-d197528-Reviews-Hotel.html?x=1",
        {"permalink": "https://www.tripadvisor.fr/Hotel_Review-g187147-d197528-Reviews-Hotel.html"},
    ),
]


@pytest.mark.parametrize(("url", "expected"), CASES, ids=[c[0] for c in CASES])
def test_links_for_real_platforms(url: str, expected: dict[str, str | None]) -> None:
    links = links_for(url).model_dump()
    for field, value in expected.items():
        assert links[field] == value, field


def test_attribution_text_names_the_page_and_the_history() -> None:
    links = links_for("https://en.wikipedia.org/wiki/Ada_Lovelace")
    assert links.attribution is not None
    assert "https://en.wikipedia.org/wiki/Ada_Lovelace" in links.attribution
    assert "action=history" in links.attribution
    osm = links_for("https://www.openstreetmap.org/node/1")
    assert osm.attribution is not None and "© OpenStreetMap contributors" in osm.attribution


def test_unknown_hosts_and_non_http_urls_give_empty_links() -> None:
    assert links_for("https://example.com/wiki/Foo") == DerivedLinks()
    assert links_for("ftp://en.wikipedia.org/wiki/Foo").is_empty()
    assert links_for("not a url").is_empty()
    assert links_for("https://en.wikipedia.org/wiki/Foo", registry=Registry.empty()).is_empty()


def test_engine_templates_apply_to_any_host_when_the_platform_is_named() -> None:
    links = links_for("https://wiki.example/wiki/Runway_09", platform="mediawiki")
    assert links.edit_history_url == "https://wiki.example/w/index.php?title=Runway_09&action=history"
    assert links.discussion_url == "https://wiki.example/wiki/Talk:Runway_09"
    topic = links_for("https://forum.example/t/opening-hours/42", platform="discourse")
    assert topic.discussion_url == "https://forum.example/t/opening-hours/42"
    php = links_for("https://board.example/forum/viewtopic.php?f=2&t=77", platform="phpbb")
    assert php.permalink == "https://board.example/forum/viewtopic.php?t=77"
    assert links_for("https://wiki.example/wiki/X", platform="no-such-platform").is_empty()


def test_host_patterns_cover_subdomains_and_any_public_suffix() -> None:
    reg = load_registry()
    assert reg.match_host("en.m.wikipedia.org") is not None
    hit = reg.match_host("www.tripadvisor.com.au")
    assert hit is not None and hit[0] == "tripadvisor"
    hit = reg.match_host("www.tripadvisor.de")
    assert hit is not None and hit[0] == "tripadvisor"
    assert reg.match_host("notwikipedia.org") is None
    assert reg.match_host("tripadvisor.example.com") is None
    hit = reg.match_host("meta.discourse.org")
    assert hit is not None and hit[0] == "discourse"


def test_operator_file_overrides_adds_and_disables(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        """
[platforms.wikipedia]
license = "CC BY-SA 4.0 (checked 2026)"

[platforms.intranet-wiki]
name = "Intranet wiki"
source_class = "community"
hosts = ["wiki.corp.example"]
engine = "mediawiki"

[platforms.goodreads]
disabled = true
""",
        encoding="utf-8",
    )
    reg = load_registry(extra)
    assert reg.platforms["wikipedia"].license == "CC BY-SA 4.0 (checked 2026)"
    assert reg.platforms["wikipedia"].hosts  # untouched fields survive the merge
    assert "goodreads" not in reg.platforms
    links = links_for("https://wiki.corp.example/wiki/Onboarding", registry=reg)
    assert links.edit_history_url == "https://wiki.corp.example/w/index.php?title=Onboarding&action=history"
    assert reg.platforms["intranet-wiki"].source_class is SourceClass.COMMUNITY

    as_json = tmp_path / "mine.json"
    as_json.write_text(json.dumps({"platforms": {"hackernews": {"source_class": "aggregator"}}}), encoding="utf-8")
    assert load_registry(as_json).platforms["hackernews"].source_class is SourceClass.AGGREGATOR


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("{not json", "bad.json", "not valid JSON"),
        ("platforms = [", "bad.toml", "not valid TOML"),
        ('{"platforms": []}', "list.json", "'platforms' table"),
        ('{"platforms": {"newthing": {"name": "X"}}}', "missing.json", "source_class"),
        ('{"platforms": {"newthing": {"name": "X", "source_class": "great"}}}', "enum.json", "source_class"),
        (
            '{"platforms": {"newthing": {"name": "X", "source_class": "community", "routes": [{"pattern": "("}]}}}',
            "regex.json",
            "not a valid regex",
        ),
        ('{"platforms": {"newthing": 3}}', "shape.json", "table of fields"),
    ],
)
def test_bad_registry_files_raise_signal_error(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SignalError, match=message):
        load_registry(path)


def test_missing_registry_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SignalError, match="cannot be read"):
        load_registry(tmp_path / "absent.json")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_links_for_never_raises_on_arbitrary_text(url: str) -> None:
    assert isinstance(links_for(url), DerivedLinks)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"https://(en\.wikipedia\.org|github\.com|stackoverflow\.com)/[ -~]{0,60}", fullmatch=True))
def test_links_for_never_raises_on_platform_urls(url: str) -> None:
    assert isinstance(links_for(url), DerivedLinks)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["r.json", "r.toml", "r.txt"]))
def test_load_registry_returns_or_raises_signal_error_on_arbitrary_bytes(data: bytes, name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            reg = load_registry(path)
        except SignalError:
            return
        assert isinstance(reg, Registry)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "source_class", "hosts", "routes", "weight", "license"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3)),
                       max_size=6))
def test_any_platform_entry_shape_loads_or_raises_signal_error(entry: dict[str, object]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.json"
        path.write_text(json.dumps({"platforms": {"fuzzed": entry}}), encoding="utf-8")
        try:
            reg = load_registry(path)
        except SignalError:
            return
        assert reg.platforms["fuzzed"].name == entry["name"]


def test_bad_templates_in_an_operator_file_derive_nothing_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"platforms": {"odd": {
        "name": "Odd", "source_class": "community", "hosts": ["odd.example"],
        "routes": [{"pattern": "^/p/(?P<id>\\d+)", "permalink": "{id.real}", "edit_history": "{0}",
                    "discussion": "{missing}"}],
    }}}), encoding="utf-8")
    links = links_for("https://odd.example/p/7", registry=load_registry(path))
    assert (links.permalink, links.edit_history_url, links.discussion_url) == (None, None, None)
