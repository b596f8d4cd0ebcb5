"""Scrapy spiders: one generic OutletSpider driven by the [[outlets]] config."""
