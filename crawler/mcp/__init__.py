"""The MCP server: AI agents fetch, check and cite through fairfetch under the publishers' norms.

An I/O shell like the crawler: it composes ``norms`` (decisions),
``attribution`` (shaping) and the ledger exactly as a crawl does, so an
agent on any MCP client gets the crawler's enforcement and provenance.
"""
