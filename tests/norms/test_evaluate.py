"""evaluate(): one test per decision rule in docs/norms.md, through the real signal readers."""

from __future__ import annotations

from decimal import Decimal

from norms import Effect, Grants, Signal, Usage, evaluate
from norms.model import LicenseRef, ObligationKind
from norms.robots import parse_robots, robots_from_fetch
from norms.rsl import LicenseSource
from norms.tdmrep import parse_tdmrep_json

ROBOTS_URL = "https://news.example/robots.txt"
RSL_URL = "https://news.example/license.xml"

RSL_DOC = """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/">
    <license>
      <permits type="usage">search ai-index ai-input</permits>
      <prohibits type="usage">ai-train</prohibits>
    </license>
  </content>
  <content url="/premium/">
    <license><prohibits type="usage">all</prohibits></license>
  </content>
  <content url="/paid/">
    <license>
      <permits type="usage">ai-input</permits>
      <payment type="use"><amount currency="USD">0.01</amount></payment>
    </license>
  </content>
  <content url="/token/" server="https://license.news.example">
    <license><permits type="usage">ai-input</permits></license>
  </content>
</rsl>"""


def robots(text: str):
    return parse_robots(text, source_url=ROBOTS_URL)


def licence(body: str | None, *, error: str = "") -> LicenseSource:
    ref = LicenseRef(url=RSL_URL, via="robots", scope="global", line=1)
    return LicenseSource.from_body(ref, body) if body is not None else LicenseSource.failed(ref, error)


# Rule 1: access gates come first and are final for every usage.


def test_rule1_robots_disallow_is_a_gate_for_every_usage():
    v = evaluate(
        "https://news.example/private/x",
        robots=robots("User-agent: *\nDisallow: /private/\n"),
        purposes=[Usage.AI_INPUT],
    )
    assert not v.fetch.allowed
    assert all(not d.allowed for d in v.usages.values())
    assert v.fetch.decided_by is not None
    assert v.fetch.decided_by.signal is Signal.ROBOTS
    assert v.fetch.decided_by.line == 2


def test_rule1_a_licence_never_overrides_robots_disallow():
    v = evaluate(
        "https://news.example/private/x",
        robots=robots(f"License: {RSL_URL}\nUser-agent: *\nDisallow: /private/\n"),
        licenses=[licence(RSL_DOC)],
    )
    assert not v.fetch.allowed
    assert not v.allowed(Usage.AI_INPUT)


def test_rule1_unreachable_robots_disallows_everything():
    rb = robots_from_fetch(status=503, source_url=ROBOTS_URL)
    v = evaluate("https://news.example/", robots=rb)
    assert not v.fetch.allowed
    assert "503" in v.fetch.reason


def test_rule1_http_451_after_the_response_is_a_gate():
    v = evaluate("https://news.example/a", status=451, headers={}, html="<p>x</p>")
    assert not v.fetch.allowed
    assert v.usages[Usage.SEARCH].decided_by.signal is Signal.HTTP_STATUS


def test_rule1_402_without_price_ceiling_is_a_gate_and_with_one_an_obligation():
    headers = {"crawler-price": "USD 0.01"}
    unpaid = evaluate("https://news.example/a", status=402, headers=headers)
    assert not unpaid.fetch.allowed
    paid = evaluate(
        "https://news.example/a",
        status=200,
        headers={"crawler-charged": "USD 0.01"},
        html="<p>text</p>",
        grants=Grants(max_price=Decimal("0.05")),
    )
    assert paid.fetch.allowed
    kinds = {o.kind for o in paid.usages[Usage.AI_INPUT].obligations}
    assert ObligationKind.PAYMENT in kinds


def test_rule1_rsl_server_without_token_is_a_gate_with_token_a_grant():
    v = evaluate("https://news.example/token/a", licenses=[licence(RSL_DOC)])
    assert not v.fetch.allowed
    held = Grants(license_tokens={"https://license.news.example": "tok"})
    v2 = evaluate("https://news.example/token/a", licenses=[licence(RSL_DOC)], grants=held)
    assert v2.fetch.allowed
    assert v2.allowed(Usage.AI_INPUT)
    assert ObligationKind.LICENSE_TOKEN in {o.kind for o in v2.obligations(Usage.AI_INPUT)}


# Rule 2: the most restrictive applicable signal wins across standards.


def test_rule2_content_signal_no_beats_rsl_permission():
    rb = robots(f"License: {RSL_URL}\nUser-agent: *\nContent-Signal: ai-input=no\nAllow: /\n")
    v = evaluate("https://news.example/story", robots=rb, licenses=[licence(RSL_DOC)])
    assert not v.allowed(Usage.AI_INPUT)
    assert v.usages[Usage.AI_INPUT].decided_by.signal is Signal.CONTENT_SIGNAL
    assert v.allowed(Usage.SEARCH)


def test_rule2_rsl_prohibition_in_narrower_scope():
    v = evaluate("https://news.example/premium/story", licenses=[licence(RSL_DOC)], purposes=["ai-input"])
    assert not v.allowed(Usage.AI_INPUT)
    assert not v.allowed(Usage.SEARCH)
    assert not v.fetch.allowed  # no declared purpose allowed: not requested
    assert "no declared purpose" in v.fetch.reason


def test_rule2_page_noai_denies_ai_usages_but_not_search():
    html = '<html><head><meta name="robots" content="noai"></head><body><p>t</p></body></html>'
    v = evaluate("https://news.example/a", status=200, headers={}, html=html)
    assert not v.allowed(Usage.AI_TRAIN)
    assert not v.allowed(Usage.AI_INPUT)
    assert v.allowed(Usage.SEARCH)
    assert v.usages[Usage.AI_INPUT].decided_by.signal is Signal.META_ROBOTS


def test_rule2_paywall_markup_denies_ai_even_with_full_text_present():
    html = """<html><head><script type="application/ld+json">
    {"@context":"https://schema.org","@type":"NewsArticle","isAccessibleForFree":false}
    </script></head><body><article><p>The whole story is right here in the HTML.</p></article></body></html>"""
    v = evaluate("https://news.example/a", status=200, headers={}, html=html)
    assert not v.allowed(Usage.AI_INPUT)
    assert v.usages[Usage.AI_INPUT].decided_by.signal is Signal.PAYWALL


def test_rule2_tdmrep_header_overrides_file_first_match():
    tdm = parse_tdmrep_json(
        '[{"location":"/press/","tdm-reservation":0},{"location":"/","tdm-reservation":1}]',
        source_url="https://news.example/.well-known/tdmrep.json",
    )
    before = evaluate("https://news.example/a", tdmrep=tdm)
    assert not before.allowed(Usage.AI_TRAIN)
    press = evaluate("https://news.example/press/x", tdmrep=tdm, purposes=["ai-train"])
    assert press.allowed(Usage.AI_TRAIN)
    after = evaluate("https://news.example/a", tdmrep=tdm, status=200, headers={"tdm-reservation": "0"}, html="<p>x</p>")
    assert after.allowed(Usage.AI_TRAIN)


# Rule 3: a grant lifts preference denials for the usages it covers, never licence prohibitions.


def test_rule3_contract_grant_lifts_content_signal_but_not_rsl_prohibition():
    rb = robots(f"License: {RSL_URL}\nUser-agent: *\nContent-Signal: ai-input=no\n")
    contract = Grants(licensed={"news.example": [Usage.AI_INPUT, Usage.AI_TRAIN]})
    v = evaluate("https://news.example/story", robots=rb, licenses=[licence(RSL_DOC)], grants=contract)
    assert v.allowed(Usage.AI_INPUT)
    assert any("overridden by a grant" in r for r in v.usages[Usage.AI_INPUT].reasons)
    assert not v.allowed(Usage.AI_TRAIN)  # prohibited in the licence itself


def test_rule3_payment_requires_an_agreed_ceiling():
    no = evaluate("https://news.example/paid/a", licenses=[licence(RSL_DOC)], purposes=["ai-input"])
    assert not no.allowed(Usage.AI_INPUT)
    assert not no.fetch.allowed
    yes = evaluate(
        "https://news.example/paid/a",
        licenses=[licence(RSL_DOC)],
        purposes=["ai-input"],
        grants=Grants(max_price=Decimal("0.02")),
    )
    assert yes.allowed(Usage.AI_INPUT)
    payment = [o for o in yes.obligations(Usage.AI_INPUT) if o.kind is ObligationKind.PAYMENT]
    assert payment and payment[0].amount == Decimal("0.01")


# Rule 4: an allowed usage carries every obligation of the statements about it.


def test_rule4_snippet_limit_travels_with_the_allow():
    v = evaluate(
        "https://news.example/a",
        status=200,
        headers=[("X-Robots-Tag", "max-snippet:50")],
        html="<p>x</p>",
    )
    assert v.allowed(Usage.AI_INPUT)
    limits = [o.limit for o in v.obligations(Usage.AI_INPUT) if o.kind is ObligationKind.SNIPPET_LIMIT]
    assert limits == [50]


def test_rule4_paywalled_parts_become_selectors_to_exclude():
    html = """<html><head><script type="application/ld+json">
    {"@context":"https://schema.org","@type":"NewsArticle","isAccessibleForFree":false,
     "hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".premium"}}
    </script></head><body><p>free teaser</p><div class="premium">paid part</div></body></html>"""
    v = evaluate("https://news.example/a", status=200, headers={}, html=html)
    assert ".premium" in v.exclude_selectors


# Rule 5: silence falls back to the defaults, and the default used is recorded.


def test_rule5_defaults_when_nothing_speaks():
    v = evaluate("https://news.example/a", robots=robots("User-agent: *\nDisallow:\n"))
    assert v.allowed(Usage.AI_INPUT)
    assert v.usages[Usage.AI_INPUT].decided_by.signal is Signal.DEFAULT
    assert not v.allowed(Usage.AI_TRAIN)
    assert v.usages[Usage.AI_TRAIN].decided_by.signal is Signal.DEFAULT


def test_rule5_explicit_permission_is_needed_for_training():
    rb = robots("User-agent: *\nContent-Signal: ai-train=yes\n")
    v = evaluate("https://news.example/a", robots=rb)
    assert v.allowed(Usage.AI_TRAIN)
    assert v.usages[Usage.AI_TRAIN].decided_by.signal is Signal.CONTENT_SIGNAL


# Licences that cannot be read leave the content unlicensed.


def test_unreadable_licence_denies_ai_usages_with_reason():
    v = evaluate("https://news.example/a", licenses=[licence(None, error="HTTP 404")])
    for u in (Usage.AI_INDEX, Usage.AI_INPUT, Usage.AI_TRAIN):
        assert not v.allowed(u)
        assert any("404" in r for r in v.usages[u].reasons)
    assert v.allowed(Usage.SEARCH)


def test_verdict_serialises_to_json_with_evidence():
    rb = robots("User-agent: *\nContent-Signal: ai-train=no\n")
    data = evaluate("https://news.example/a", robots=rb).model_dump(mode="json")
    assert data["usages"]["ai-train"]["effect"] == "deny"
    assert data["usages"]["ai-train"]["decided_by"]["line"] == 2
    assert data["evidence"]


def test_memoised_combination_is_url_independent_but_keeps_the_url():
    rb = robots("User-agent: *\nContent-Signal: ai-train=no\nDisallow: /x/\n")
    a = evaluate("https://news.example/a", robots=rb)
    b = evaluate("https://news.example/b", robots=rb)
    assert a.url.endswith("/a") and b.url.endswith("/b")
    assert a.usages[Usage.AI_TRAIN].effect is Effect.DENY
    assert not evaluate("https://news.example/x/1", robots=rb).fetch.allowed


def test_qualifying_statements_do_not_grant_training():
    """noimageai / hasPart paywalls narrow a use; they are not a permission to train."""
    v = evaluate("https://news.example/a", status=200, headers={"X-Robots-Tag": "noimageai"}, html="<p>x</p>")
    assert not v.allowed(Usage.AI_TRAIN)
    assert v.usages[Usage.AI_TRAIN].decided_by.signal is Signal.DEFAULT
    assert v.allowed(Usage.AI_INPUT)
    assert ObligationKind.EXCLUDE_PARTS in {o.kind for o in v.obligations(Usage.AI_INPUT)}
