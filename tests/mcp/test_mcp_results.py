"""``fetch``'s paging under a publisher's snippet limit, over arbitrary lengths, limits and offsets.

The text is made of unique tokens (``<0> <1> ...``) so that a token seen in a
result can only have come from its own place in the page.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.mcp.pipeline import PageOutcome
from crawler.mcp.results import fetch_result
from norms.evaluate import evaluate
from norms.model import Usage

URL = "http://news.example/story"


def outcome(tokens: int, snippet: int | None) -> PageOutcome:
    meta = f'<meta name="robots" content="max-snippet:{snippet}">' if snippet is not None else ""
    html = f"<html><head>{meta}</head><body><p>story</p></body></html>"
    verdict = evaluate(URL, purposes=[Usage.AI_INPUT], status=200,
                       headers={"Content-Type": "text/html"}, html=html)
    text = " ".join(f"<{i}>" for i in range(tokens))
    return PageOutcome(URL, URL, Usage.AI_INPUT, "agent", True, "allowed", verdict=verdict, status=200,
                       text=text, html=text)


@settings(max_examples=150, deadline=None)
@given(tokens=st.integers(0, 400), snippet=st.none() | st.integers(1, 1500),
       max_length=st.integers(1, 900), start=st.integers(0, 2500), raw=st.booleans())
def test_paging_never_reaches_past_the_snippet_limit(
    tokens: int, snippet: int | None, max_length: int, start: int, raw: bool
) -> None:
    out = outcome(tokens, snippet)
    text = out.text or ""
    result = fetch_result(out, max_length=max_length, start_index=start, raw=raw)
    data = result.structured_content
    assert data is not None and not result.is_error
    available = len(text) if snippet is None else min(len(text), snippet)
    assert data["length"] == available
    assert data["obligations"]["snippet_limit"] == snippet
    end = min(start + max_length, available)
    assert data["next_start_index"] == (end if end < available else None)
    shown = set(re.findall(r"<\d+>", result.content[0].text))  # type: ignore[union-attr]
    for match in re.finditer(r"<\d+>", text):
        inside = start <= match.start() and match.end() <= end
        if inside:
            assert match.group() in shown
        if match.start() >= min(available, start + max_length) or match.end() <= start:
            assert match.group() not in shown
