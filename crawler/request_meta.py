"""Request.meta keys read by modules that must not import each other.

A leaf module (it imports nothing of fairfetch). ``RECORDED_META`` is set by
enforcement when it has written a request's outcome to the ledger, and by
:mod:`crawler.stopping` when it drops queued requests at a stop; the spider's
error handler reads it so that no request gets a second row. Kept here, and
not in :mod:`crawler.middlewares.enforce`, because stopping is reached from
scale-out, which enforcement itself reaches: importing enforce from stopping
closed an import circle.
"""

RECORDED_META = "fairfetch_recorded"  # the outcome is already in the ledger
