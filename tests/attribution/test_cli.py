"""``fairfetch shape`` end to end through the real CLI entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.cli import main
from tests.attribution.cases import CASES, FIXTURES


def write_case(tmp_path: Path, name: str) -> tuple[Path, Path, dict[str, object]]:
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    sources = []
    for raw in case["sources"]:
        raw = dict(raw)
        if "text_file" in raw:
            raw["text"] = (FIXTURES / "sources" / raw.pop("text_file")).read_text(encoding="utf-8")
        sources.append(raw)
    answer = tmp_path / "answer.txt"
    answer.write_text(case["answer"], encoding="utf-8")
    srcs = tmp_path / "sources.json"
    srcs.write_text(json.dumps(sources), encoding="utf-8")
    return answer, srcs, case


def test_shape_prints_markdown_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, srcs, case = write_case(tmp_path, "hastings_primary_source")
    code = main(["shape", "--answer", str(answer), "--sources", str(srcs), "--query", str(case["query"])])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("According to Wikipedia, the death of Edward the Confessor")
    assert "[view edit history](https://en.wikipedia.org/w/index.php?title=Battle_of_Hastings&action=history)" in out


def test_shape_json_kind_and_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, srcs, _ = write_case(tmp_path, "aggregator_long_copy_trimmed")
    policy = tmp_path / "policy.toml"
    policy.write_text("[limits.aggregator]\nmax_quote_words = 5\n", encoding="utf-8")
    code = main(
        ["shape", "--answer", str(answer), "--sources", str(srcs), "--kind", "primary_source", "--policy", str(policy), "--json"]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["kind"] == "primary_source"
    # The policy's 5-word limit removes the copied sentence whole and points to the source.
    removed = [a for a in data["actions"] if a["kind"] == "remove_quote"]
    assert removed and "over 5 words per quote" in removed[0]["detail"]
    assert "Read the full text at" in data["text"] and "…" not in data["text"]


def test_shape_html_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, srcs, _ = write_case(tmp_path, "youtube_video")
    assert main(["shape", "--answer", str(answer), "--sources", str(srcs), "--format", "html"]) == 0
    assert '<a href="https://www.youtube.com/watch?v=Qh3mN8x2kLw"' in capsys.readouterr().out


def test_shape_resolves_bare_urls_through_the_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.ledger import Ledger
    from crawler.ledger.records import PageRecord

    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    text = "The Battle of Hastings was fought on 14 October 1066 below the ridge where Battle Abbey now stands."
    with Ledger(db) as ledger:
        ledger.start_crawl("c1", user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={})
        ledger.record_page(
            PageRecord(
                url="https://www.english-heritage.org.uk/hastings",
                crawl_id="c1",
                fetched_at=datetime(2026, 11, 21, tzinfo=UTC),
                status=200,
                text=text,
                metadata={"title": "Hastings", "site_name": "English Heritage"},
                decisions={"ai-input": {"allowed": True, "reasons": [], "obligations": []}},
                source_class="canonical",
                user_agent="fairfetch",
            )
        )
    answer = tmp_path / "a.txt"
    answer.write_text("The Battle of Hastings was fought on 14 October 1066 below the ridge.", encoding="utf-8")
    srcs = tmp_path / "s.json"
    srcs.write_text(json.dumps(["https://www.english-heritage.org.uk/hastings"]), encoding="utf-8")
    assert main(["shape", "--answer", str(answer), "--sources", str(srcs), "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"][0]["url"] == "https://www.english-heritage.org.uk/hastings"
    assert data["text"] == "According to English Heritage, the Battle of Hastings was fought on 14 October 1066 below the ridge."


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ("not json", "is not valid JSON"),
        ('{"url": "x"}', "must hold a JSON list"),
        ('["https://a.example/"]', "pass --db"),
        ('[{"url": "https://a.example/", "source_class": "blog"}]', "source_class"),
        ("[3]", "must be an object or a URL"),
    ],
)
def test_shape_bad_input_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sources: str, message: str
) -> None:
    monkeypatch.delenv("FAIRFETCH_DB", raising=False)
    answer = tmp_path / "a.txt"
    answer.write_text("Hello.", encoding="utf-8")
    srcs = tmp_path / "s.json"
    srcs.write_text(sources, encoding="utf-8")
    assert main(["shape", "--answer", str(answer), "--sources", str(srcs)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert message in err and "Traceback" not in err


def test_shape_missing_ledger_page_and_missing_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "a.txt"
    answer.write_text("Hello.", encoding="utf-8")
    srcs = tmp_path / "s.json"
    srcs.write_text('["https://a.example/"]', encoding="utf-8")
    missing_db = f"sqlite:///{tmp_path / 'none.sqlite'}"
    assert main(["shape", "--answer", str(answer), "--sources", str(srcs), "--db", missing_db]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_shape_language_option_phrases_in_that_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, srcs, _ = write_case(tmp_path, "hastings_primary_source")
    code = main(["shape", "--answer", str(answer), "--sources", str(srcs), "--kind", "primary_source", "--language", "fr", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["language"] == "fr"
    assert data["text"].startswith("Selon Wikipedia, the death of Edward")
