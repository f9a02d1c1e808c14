"""The publisher compliance checker: what each AI crawler may do on a live site, and what is broken.

``crawler.checker.report.check`` fetches a URL's signal documents and page
(``fetch``, every hop through the SSRF guard in ``guard``), decides every
usage for every known crawler token with ``norms.evaluate`` and lists the
problems found in the publisher's markup (``problems``). ``render_text`` and
``render_html`` show a report; ``server`` serves a small web page. Nothing is
imported here, so ``fairfetch evaluate`` can use ``agents`` without httpx.
"""
