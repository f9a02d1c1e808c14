"""Who the crawler is, provably: Web Bot Auth keys (:mod:`.keys`) and request signatures (:mod:`.signing`).

Signatures are added as each request leaves (:mod:`.handler`); nothing here
decides what may be fetched, only how we identify ourselves when we do.
"""
