"""Scrapy settings for the ``fair`` spider: every publisher signal enforced by default.

Scrapy's own robots.txt middleware is switched off because ours does more
(RFC 9309 fetch outcomes, RSL and TDMRep per origin, evidence, a ledger row
per refusal). The ``FAIRFETCH_*`` settings are read by ``crawler.session``;
``fairfetch crawl`` fills them from its options, ``scrapy crawl fair -s ...``
may set them directly.
"""

from __future__ import annotations

from scrapy.settings import default_settings as _scrapy

from crawler import DEFAULT_TOKEN, PROJECT_URL, user_agent

BOT_NAME = "fairfetch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- identity and purpose -----------------------------------------------------
FAIRFETCH_TOKEN = DEFAULT_TOKEN  # matched against robots.txt User-agent groups
FAIRFETCH_CONTACT = PROJECT_URL
USER_AGENT = user_agent(DEFAULT_TOKEN, PROJECT_URL)
FAIRFETCH_PURPOSES = ["ai-input"]
FAIRFETCH_DB = None  # None: crawler.ledger.DEFAULT_DB_URL
FAIRFETCH_CRAWL_ID = None  # None: a fresh id (or the one persisted in FAIRFETCH_JOBDIR)
FAIRFETCH_JOBDIR = None  # where the crawl id lives so that a resumed crawl reuses it
FAIRFETCH_MAX_PRICE = None  # "USD 0.05": ceiling for HTTP 402 and RSL payments
FAIRFETCH_BUDGET = None  # "USD 10": the most the whole crawl may spend (crawler.payment)
FAIRFETCH_LICENSE_TOKENS: dict[str, str] = {}  # RSL licence server URL -> token
FAIRFETCH_LICENSE_CREDENTIALS: dict[str, object] = {}  # RSL licence server URL -> crawler.licensing.Credentials (OLP)
FAIRFETCH_ACCEPT_LICENSES: list[str] = []  # licence document URLs the operator agreed to (--accept-license)
FAIRFETCH_EXTRACT = True  # False: store decisions and metadata, no main text
# Web Bot Auth (crawler.identity): with a key every request is signed as it leaves.
FAIRFETCH_SIGNING_KEY = None  # path of the Ed25519 JWK written by `fairfetch keys new`
FAIRFETCH_SIGNATURE_AGENT = None  # https origin serving our key directory
# Revocation of stored pages when newer signals say no (crawler.recrawl): "newer-signal"
# (default) or "strict"; there is no setting that switches it off.
FAIRFETCH_REVOCATION = "newer-signal"
# Extraction and classification in this many processes (crawler.extract_pool); None: the
# machine's cores, 0: on the reactor thread.
FAIRFETCH_EXTRACT_PROCESSES = None

# --- per-origin signal documents ------------------------------------------------
# robots.txt has its own short timeout so that one hanging host cannot stall the
# crawl; a timeout counts as "unreachable" (RFC 9309: disallow everything).
FAIRFETCH_ROBOTS_TIMEOUT = 10.0
FAIRFETCH_SIGNAL_TIMEOUT = 10.0  # RSL licence documents and tdmrep.json
FAIRFETCH_LICENSE_MAX_BYTES = 1_000_000
FAIRFETCH_TDMREP_MAX_BYTES = 1_000_000
FAIRFETCH_SIGNAL_TTL = 24 * 3600  # RFC 9309 §2.4: no robots.txt copy older than 24 h
# Read each origin's first sitemap (and one child of an index) for source classification.
FAIRFETCH_SITEMAPS = True

# --- scale-out (crawler.scaleout) ------------------------------------------------------
# Set by `fairfetch crawl --redis` together with the scrapy-redis scheduler and the
# paced download handler (crawler.shared_crawl.apply_settings): set them only that way, never alone.
# With a Redis URL the crawl is one worker of a shared crawl: frontier, seen-set,
# signal documents and Crawl-delay pacing live in Redis under PREFIX<crawl id>:.
FAIRFETCH_REDIS_URL = None  # None: a crawl on this machine only, Redis never touched
FAIRFETCH_REDIS_PREFIX = "fairfetch:"
FAIRFETCH_IDLE_SECONDS = 10.0  # stop once the whole crawl has been quiet this long

# --- link following -------------------------------------------------------------
FAIRFETCH_FOLLOW_EXTERNAL = False
FAIRFETCH_MAX_PAGES = 0  # 0: no limit
DEPTH_LIMIT = 3
# crawler.limits: links followed per page and the longest URL requested, for seeds, links,
# redirect targets and sitemaps alike; every URL they keep out is a "dropped" fetch-log row.
FAIRFETCH_MAX_LINKS = 500
FAIRFETCH_MAX_URL_LENGTH = 2083
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None}  # silent: replaced
# Breadth-first: a URL is usually first seen along its shortest path, so --depth
# reaches every page within N links (crawler.depthbook corrects the rest).
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# --- politeness -----------------------------------------------------------------
ROBOTSTXT_OBEY = False  # replaced by crawler.middlewares.enforce
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
COOKIES_ENABLED = False  # a crawler that logs in nowhere needs no session
# Items per response processed in parallel: a page yields one item, and Scrapy
# starts this many worker tasks per callback output whatever its size.
CONCURRENT_ITEMS = 16

# --- "slow down" (crawler.pauses) ----------------------------------------------------
# 429 and 503 pause the whole origin: Retry-After (seconds or HTTP-date), else 1 s, 2 s, 4 s ...
# A request that would wait longer than FAIRFETCH_MAX_PAUSE is given up (error "retry-after").
FAIRFETCH_MAX_PAUSE = 120.0
FAIRFETCH_BACKOFF_BASE = 1.0
DOWNLOAD_HANDLERS = {
    "http": "crawler.pauses.PausingHTTPHandler",
    "https": "crawler.pauses.PausingHTTPHandler",
}

# --- faults ---------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 1
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"  # an expected outcome, recorded in the ledger as an error row
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False  # a meta refresh is a link, not a redirect we follow blindly

# --- components -----------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    # Strict, capped, streaming Content-Encoding (crawler.middlewares.decode): an undecodable
    # body is an error, never its readable prefix; a gzip bomb is never inflated past the cap.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.decode.DecodeMiddleware": 590,
    # Lowest order: its process_request runs first (nothing reaches the
    # network undecided) and its process_response last (it judges the final
    # response, after retries and redirects).
    "crawler.middlewares.enforce.EnforceMiddleware": 10,
    # Between the downloader and RedirectMiddleware (600): sees each 3xx
    # before it turns into a new request, to log the hop.
    "crawler.middlewares.enforce.RedirectLogMiddleware": 610,
}
# OffsiteMiddleware is replaced by the spider's own host filter (seed hosts,
# or every host with --follow-external): it must not drop redirect targets
# before enforcement has logged them.
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.middlewares.politeness.OriginThrottle": 0,
}
# Components this crawler never runs are taken out of Scrapy's own lists, not set to None:
# Scrapy imports every class a component dict names, None or not, and these imports were a
# tenth of a crawl's start-up (RemoteControl brings aiohttp, CookiesMiddleware tldextract and
# requests). No listening consoles (telnet, remote control): an unattended crawler opens no ports.
_NEVER_RUN = {
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",  # COOKIES_ENABLED is False
}
EXTENSIONS_BASE = {k: v for k, v in _scrapy.EXTENSIONS_BASE.items() if k not in _NEVER_RUN}
DOWNLOADER_MIDDLEWARES_BASE = {k: v for k, v in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items() if k not in _NEVER_RUN}
# DOWNLOAD_HANDLERS: crawler.pauses.PausingHTTPHandler (above) waits out "slow down" pauses, then
# signs each request right before it is sent (SigningHTTPHandler; a no-op without FAIRFETCH_SIGNING_KEY).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
ITEM_PIPELINES = {"crawler.pipelines.LedgerPipeline": 300}
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# A development lint that re-reads the callback's source (inspect + ast) for
# every response, because its cache is keyed by short-lived bound methods.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "INFO"
