"""The publisher compliance checker: what each AI crawler may do on a site, and what is broken.

``live.check`` fetches a URL's signal documents and page (``fetch``, every hop
through the SSRF guard in ``guard``, one deadline per check); ``offline.check_files``
reads the same documents from local files. Both bundle what they read in a
``signals.SiteSignals`` and hand it to ``report.analyse``, which decides every
usage for fairfetch's purpose tokens (``norms.purposes``) and every known crawler
token (``norms.evaluate``) and gathers the problems: the readers' findings
(``lint_files``, ``lint_page``), contradictions across signals
(``contradictions``), each catalogued with a fix (``catalogue``, ``problems``). ``render_text`` and ``render_html`` show a report;
``server`` serves the page and JSON API on Starlette under uvicorn. Nothing is
imported here, so ``fairfetch evaluate`` can use ``agents`` without httpx.
"""
