"""Every real RSL document in fixtures/corpus/rsl/ yields terms, and they say what the publisher wrote.

The files are copied byte-for-byte from the sites' own repositories (see
fixtures/corpus/SOURCES.md); two of them are not RSL 1.0 conformant, which is
exactly what a crawler meets in the wild.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from norms.model import AI_USAGES, Effect, Grants, ObligationKind, Usage
from norms.robots import parse_robots
from norms.rsl import LicenseSource, Terms, license_statements, parse_rsl

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
RSL_FILES = sorted((CORPUS / "rsl").glob("*.rsl.xml"))


def terms_of(name: str, url: str) -> Terms:
    doc = parse_rsl((CORPUS / "rsl" / name).read_bytes())
    terms = doc.terms_for(url)
    assert terms is not None, f"{name} says nothing about {url}"
    return terms


def by_usage(statements: list) -> dict[Usage, list]:
    out: dict[Usage, list] = {}
    for s in statements:
        out.setdefault(s.usage, []).append(s)
    return out


def test_the_corpus_has_the_four_documents() -> None:
    assert [p.name for p in RSL_FILES] == [
        "bolsaclick.com.br.rsl.xml",
        "crawlpriceindex.com.rsl.xml",
        "davidtofan.com.rsl.xml",
        "ireneburresi.dev.rsl.xml",
    ]


@pytest.mark.parametrize("path", RSL_FILES, ids=lambda p: p.name)
def test_every_real_document_parses_and_yields_terms_for_its_home_page(path: Path) -> None:
    doc = parse_rsl(path.read_bytes(), source_url=f"https://{path.name[: -len('.rsl.xml')]}/rsl.xml")
    assert doc.max_age_days == 30
    assert not doc.legacy
    host = path.name[: -len(".rsl.xml")]
    home = f"https://www.{host}/" if host == "bolsaclick.com.br" else f"https://{host}/"
    assert doc.terms_for(home) is not None


def test_crawlpriceindex_free_with_attribution_and_training_at_one_dollar() -> None:
    doc = parse_rsl((CORPUS / "rsl" / "crawlpriceindex.com.rsl.xml").read_bytes())
    assert doc.conformant
    # three <permits type="usage"> in one licence: read as one list, with a warning
    assert doc.warnings == [
        "<content url='/'> <license> #1: several <permits type=\"usage\"> merged into one list"
    ]
    terms = terms_of("crawlpriceindex.com.rsl.xml", "https://crawlpriceindex.com/prices/stackoverflow.com")
    assert terms.patterns == ("/",)
    assert all(terms.permits(u) is True for u in Usage)
    for usage in (Usage.SEARCH, Usage.AI_INDEX, Usage.AI_INPUT):
        (attribution,) = terms.obligations(usage)
        assert attribution.kind is ObligationKind.ATTRIBUTION
    (payment,) = terms.obligations(Usage.AI_TRAIN)
    assert (payment.kind, payment.amount, payment.currency, payment.url) == (
        ObligationKind.PAYMENT,
        Decimal("1.00"),
        "USD",
        "https://crawlpriceindex.com/#access",
    )
    assert payment.detail == "training payment"


def test_crawlpriceindex_training_needs_an_operator_who_pays() -> None:
    src = LicenseSource.from_body(
        parse_robots((CORPUS / "robots" / "crawlpriceindex.com.txt").read_bytes()).licenses("fairfetch")[0],
        (CORPUS / "rsl" / "crawlpriceindex.com.rsl.xml").read_bytes(),
    )
    assert src.ref.url == "https://crawlpriceindex.com/rsl.xml"
    url = "https://crawlpriceindex.com/"
    stmts, gates = license_statements(url, [src], Grants())
    assert gates == []
    got = by_usage(stmts)
    assert [s.effect for s in got[Usage.AI_TRAIN]] == [Effect.DENY]
    assert "payment required, operator has not agreed to pay (training USD 1.00" in (
        got[Usage.AI_TRAIN][0].evidence.rule
    )
    assert all(got[u][0].effect is Effect.ALLOW for u in (Usage.SEARCH, Usage.AI_INDEX, Usage.AI_INPUT))
    stmts, _ = license_statements(url, [src], Grants(max_price=Decimal("1.00")))
    assert by_usage(stmts)[Usage.AI_TRAIN][0].effect is Effect.ALLOW
    stmts, _ = license_statements(url, [src], Grants(max_price=Decimal("0.99")))
    assert by_usage(stmts)[Usage.AI_TRAIN][0].effect is Effect.DENY


def test_davidtofan_search_and_rag_with_attribution_training_by_negotiation() -> None:
    doc = parse_rsl((CORPUS / "rsl" / "davidtofan.com.rsl.xml").read_bytes())
    assert doc.conformant
    terms = terms_of("davidtofan.com.rsl.xml", "https://davidtofan.com/posts/hello")
    assert terms.patterns == ("https://davidtofan.com/",)
    assert terms.permits(Usage.SEARCH) is True
    assert terms.permits(Usage.AI_INPUT) is True
    # ai-index is in neither closed permits list
    assert terms.permits(Usage.AI_INDEX) is False
    assert terms.permits(Usage.AI_TRAIN) is True
    (attribution,) = terms.obligations(Usage.SEARCH)
    assert attribution.kind is ObligationKind.ATTRIBUTION
    assert attribution.url == "https://davidtofan.com/ai-licensing-terms/"
    training = terms.payment_for(Usage.AI_TRAIN)
    assert training is not None
    assert (training.type, training.amounts, training.custom) == (
        "training",
        (),
        "https://linkedin.com/in/davidtofan",
    )
    # the absolute content url pins the host
    assert parse_rsl((CORPUS / "rsl" / "davidtofan.com.rsl.xml").read_bytes()).terms_for(
        "https://www.davidtofan.com/"
    ) is None


def test_davidtofan_training_price_is_not_stated_so_it_stays_denied() -> None:
    ref = parse_robots((CORPUS / "robots" / "davidtofan.com.txt").read_bytes()).licenses("fairfetch")[0]
    assert ref.url == "https://davidtofan.com/rsl.xml"
    src = LicenseSource.from_body(ref, (CORPUS / "rsl" / "davidtofan.com.rsl.xml").read_bytes())
    stmts, _ = license_statements("https://davidtofan.com/", [src], Grants(max_price=Decimal("1000")))
    got = by_usage(stmts)
    assert got[Usage.AI_TRAIN][0].effect is Effect.DENY
    assert "https://linkedin.com/in/davidtofan" in got[Usage.AI_TRAIN][0].evidence.rule
    assert got[Usage.AI_INDEX][0].effect is Effect.DENY
    assert "closed permits list" in got[Usage.AI_INDEX][0].evidence.rule
    assert got[Usage.SEARCH][0].effect is Effect.ALLOW
    assert got[Usage.AI_INPUT][0].effect is Effect.ALLOW


def test_ireneburresi_terms_are_read_but_the_document_is_not_conformant() -> None:
    doc = parse_rsl((CORPUS / "rsl" / "ireneburresi.dev.rsl.xml").read_bytes())
    assert doc.nonconformities == [
        "unknown attribute 'version' on <rsl>",
        "unknown RSL element <meta> in <rsl>",
        "<terms> is not allowed inside <payment>",
    ]
    assert any("unknown token 'quote'" in w for w in doc.warnings)
    assert any("unknown token 'excerpt'" in w for w in doc.warnings)

    site = terms_of("ireneburresi.dev.rsl.xml", "https://ireneburresi.dev/about/")
    assert site.patterns == ("/",)
    assert [site.permits(u) for u in Usage] == [True, True, True, False]
    assert site.standard == "https://creativecommons.org/licenses/by/4.0/"
    assert [lg.values for lg in site.legal] == [("ownership", "authority")]
    kinds = [o.kind for o in site.obligations(Usage.AI_INPUT)]
    assert kinds == [ObligationKind.ATTRIBUTION, ObligationKind.LEGAL]

    blog = terms_of("ireneburresi.dev.rsl.xml", "https://ireneburresi.dev/blog/post-1/")
    assert blog.patterns == ("/blog/",)
    assert [blog.permits(u) for u in Usage] == [True, True, True, False]
    assert blog.legal == ()

    # a crawler treats content under a non-conformant licence as unlicensed for AI
    ref_src = LicenseSource.from_body(
        parse_robots("User-agent: *\nAllow: /\nLicense: https://ireneburresi.dev/rsl.xml\n").licenses("x")[0],
        (CORPUS / "rsl" / "ireneburresi.dev.rsl.xml").read_bytes(),
    )
    stmts, _ = license_statements("https://ireneburresi.dev/blog/post-1/", [ref_src], Grants())
    assert {s.usage for s in stmts} == set(AI_USAGES)
    assert all(s.effect is Effect.DENY and not s.preference for s in stmts)
    assert "unknown attribute 'version' on <rsl>" in stmts[0].evidence.rule


def test_bolsaclick_invented_vocabulary_reads_as_silent_and_unlicensed() -> None:
    doc = parse_rsl((CORPUS / "rsl" / "bolsaclick.com.br.rsl.xml").read_bytes())
    assert not doc.conformant
    assert "unknown RSL element <attribution> in <license>" in doc.nonconformities
    assert "<copyright> is not allowed inside <license>" in doc.nonconformities
    assert sum("is not an RSL rule type" in n for n in doc.nonconformities) == 4
    terms = terms_of("bolsaclick.com.br.rsl.xml", "https://www.bolsaclick.com.br/cursos/")
    assert terms.patterns == ("https://www.bolsaclick.com.br/",)
    # permits type="search">yes etc. is no RSL rule: nothing can be read from it
    assert [terms.permits(u) for u in Usage] == [None, None, None, None]
    assert doc.terms_for("https://bolsaclick.com.br/") is None

    src = LicenseSource.from_body(
        parse_robots("License: https://www.bolsaclick.com.br/rsl.xml\n").licenses("x")[0],
        (CORPUS / "rsl" / "bolsaclick.com.br.rsl.xml").read_bytes(),
    )
    stmts, _ = license_statements("https://www.bolsaclick.com.br/", [src], Grants())
    assert {s.usage for s in stmts} == set(AI_USAGES)
    assert all(s.effect is Effect.DENY for s in stmts)
