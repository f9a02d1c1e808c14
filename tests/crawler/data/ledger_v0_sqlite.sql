-- The ledger schema as created by fairfetch main@f4ad9a2 (before Alembic), sqlite dialect.
-- Generated from that commit's crawler.ledger.models with SQLAlchemy's CreateTable/CreateIndex;
-- tests/crawler/test_ledger_upgrade.py builds an old ledger from it and upgrades it.
CREATE TABLE crawls (
	id VARCHAR(200) NOT NULL, 
	user_agent VARCHAR NOT NULL, 
	purposes JSON NOT NULL, 
	seeds JSON NOT NULL, 
	settings JSON NOT NULL, 
	started_at DATETIME NOT NULL, 
	last_started_at DATETIME NOT NULL, 
	runs INTEGER NOT NULL, 
	finished_at DATETIME, 
	stats JSON, 
	PRIMARY KEY (id)
);
CREATE TABLE origins (
	origin VARCHAR(400) NOT NULL, 
	host VARCHAR(300) NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	PRIMARY KEY (origin)
);
CREATE INDEX ix_origins_host ON origins (host);
CREATE TABLE signal_snapshots (
	id INTEGER NOT NULL, 
	origin VARCHAR(400) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	url TEXT NOT NULL, 
	url_key VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	status INTEGER, 
	body BLOB, 
	size INTEGER, 
	truncated BOOLEAN NOT NULL, 
	sha256 VARCHAR(64), 
	error VARCHAR, 
	fingerprint VARCHAR(64) NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	seen_count INTEGER NOT NULL, 
	crawl_id VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_snapshot_version UNIQUE (kind, url_key, version), 
	FOREIGN KEY(origin) REFERENCES origins (origin), 
	FOREIGN KEY(crawl_id) REFERENCES crawls (id)
);
CREATE INDEX ix_signal_snapshots_origin ON signal_snapshots (origin);
CREATE TABLE hosts (
	host VARCHAR(300) NOT NULL, 
	source_class VARCHAR, 
	platform VARCHAR, 
	evidence JSON NOT NULL, 
	classified_at DATETIME NOT NULL, 
	PRIMARY KEY (host)
);
CREATE TABLE pages (
	id INTEGER NOT NULL, 
	url TEXT NOT NULL, 
	url_key VARCHAR(64) NOT NULL, 
	canonical_url VARCHAR, 
	host VARCHAR(300) NOT NULL, 
	crawl_id VARCHAR(200) NOT NULL, 
	fetched_at DATETIME NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	status INTEGER, 
	content_hash VARCHAR(128), 
	text TEXT, 
	metadata JSON NOT NULL, 
	decisions JSON NOT NULL, 
	evidence JSON NOT NULL, 
	obligations JSON NOT NULL, 
	signal_ids JSON NOT NULL, 
	source_class VARCHAR, 
	page_role VARCHAR, 
	platform VARCHAR, 
	user_agent VARCHAR NOT NULL, 
	purposes JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (url_key), 
	FOREIGN KEY(crawl_id) REFERENCES crawls (id)
);
CREATE INDEX ix_pages_host ON pages (host);
CREATE INDEX ix_pages_crawl_id ON pages (crawl_id);
CREATE TABLE fetch_log (
	id INTEGER NOT NULL, 
	"key" VARCHAR(64) NOT NULL, 
	crawl_id VARCHAR(200) NOT NULL, 
	url TEXT NOT NULL, 
	url_key VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	outcome VARCHAR(16) NOT NULL, 
	reason VARCHAR NOT NULL, 
	status INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE ("key"), 
	FOREIGN KEY(crawl_id) REFERENCES crawls (id)
);
CREATE INDEX ix_fetch_log_url_key ON fetch_log (url_key);
CREATE INDEX ix_fetch_log_crawl_id ON fetch_log (crawl_id);
