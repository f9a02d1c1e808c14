"""Loading the golden cases in fixtures/attribution (shared by the attribution tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attribution import Policy, Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "attribution"
CASES = FIXTURES / "cases"
GOLDEN = FIXTURES / "golden"


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.json"))


def load_case(name: str) -> dict[str, Any]:
    """The case with its sources built (``text_file`` entries read from fixtures/attribution/sources)."""
    data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    sources = []
    for raw in data["sources"]:
        raw = dict(raw)
        if "text_file" in raw:
            raw["text"] = (FIXTURES / "sources" / raw.pop("text_file")).read_text(encoding="utf-8")
        sources.append(Source.from_dict(raw))
    data["sources"] = sources
    data["policy"] = Policy.from_dict(data["policy"]) if data.get("policy") else None
    return data
