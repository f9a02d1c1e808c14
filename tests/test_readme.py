"""The README's Python examples run as written (users copy them first)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(python_blocks()) >= 2


def test_norms_example_decides_as_the_comments_say():
    namespace: dict[str, object] = {}
    exec(python_blocks()[0], namespace)
    verdict = namespace["verdict"]
    assert verdict.fetch.allowed  # type: ignore[attr-defined]
    assert not verdict.usages["ai-train"].allowed  # type: ignore[attr-defined]
    assert verdict.usages["ai-train"].reasons  # type: ignore[attr-defined]


def test_attribution_example_drops_the_denied_source_and_attributes(capsys):
    namespace: dict[str, object] = {}
    exec(python_blocks()[1], namespace)
    shaped = namespace["shaped"]
    assert shaped.text.startswith("According to Wikipedia")  # type: ignore[attr-defined]
    assert "fourteen thousand" not in shaped.text  # type: ignore[attr-defined]
    annotations = namespace["annotations"]
    first = annotations[0]  # type: ignore[index]
    assert first["type"] == "url_citation"
    assert shaped.text[first["start_index"] : first["end_index"]]  # type: ignore[attr-defined]
    assert "edit history" in capsys.readouterr().out.lower()


def test_attribution_before_and_after_blocks_are_what_shape_does():
    namespace: dict[str, object] = {}
    exec(python_blocks()[1], namespace)
    before, after = re.findall(r"```markdown\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)[:2]
    assert before == namespace["answer"]
    assert after == namespace["shaped"].text  # type: ignore[attr-defined]
