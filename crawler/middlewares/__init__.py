"""Downloader middlewares and extensions of the ``fair`` spider, one concern per module.

``signals``: per-origin signal documents (robots.txt, RSL, tdmrep.json), fetched once;
``signal_download`` downloads one of them, ``sitemap_reads`` the sitemaps for classification.
``enforce``: the decision before each request and after each response; ``responses`` reads
a response for it, ``fetch_log`` writes its refusals and errors, ``paying`` handles Pay Per
Crawl, ``redirect_log`` logs each redirect hop.
``politeness``: Crawl-delay / Request-rate per origin on top of AutoThrottle.
"""
