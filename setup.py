"""Only for ``scrapyd-deploy``: it builds its egg by running ``setup.py bdist_egg`` next to scrapy.cfg.

Without this file scrapyd-deploy writes its own, which packages every directory
with an ``__init__.py`` (tests and fixtures too), no data files, and whose
Scrapy entry point setuptools drops in favour of pyproject.toml. Everything
(packages, data files, the ``scrapy`` settings entry point) is in pyproject.toml.
"""

from setuptools import setup

setup()
