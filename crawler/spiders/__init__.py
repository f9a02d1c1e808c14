"""Spiders of the fairfetch Scrapy project (``fair`` is the one ``fairfetch crawl`` runs)."""
