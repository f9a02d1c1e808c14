"""`fairfetch mcp` options, and the README's MCP client configuration: valid JSON whose arguments it accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from crawler.cli import build_parser
from crawler.cli.mcp import config_from

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_stdio_configuration_parses_and_starts_the_mcp_command() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## For AI agents (MCP)", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    server = json.loads(block)["mcpServers"]["fairfetch"]
    assert server["command"].endswith("fairfetch")
    args = build_parser(server["args"]).parse_args(server["args"])
    assert args.command == "mcp" and args.transport == "stdio"
    config = config_from(args)
    assert config.db_url == "sqlite:////home/me/fairfetch.sqlite" and config.purpose.value == "ai-input"
    assert config.user_agent("agent").startswith("fairfetch/") and "autonomous" in config.user_agent("agent")
    assert "user-initiated" in config.user_agent("user")


def test_cli_defaults_are_the_safe_ones() -> None:
    args = build_parser(["mcp"]).parse_args(["mcp"])
    assert (args.transport, args.host, args.allow_private) == ("stdio", "127.0.0.1", False)
    assert config_from(args).grants.max_price is None  # nothing is paid unless asked


def test_bad_options_are_one_line_errors(capsys) -> None:  # type: ignore[no-untyped-def]
    from crawler.cli import main

    for argv, words in (
        (["mcp", "--max-price", "junk"], "price ceiling"),
        (["mcp", "--user-agent", "my bot"], "product token"),
        (["mcp", "--license-token", "nonsense"], "SERVER=TOKEN"),
        (["mcp", "--timeout", "0"], "positive"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
