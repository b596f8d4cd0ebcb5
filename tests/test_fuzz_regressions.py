"""Inputs that bench/fuzz_extract.py found to break extraction, kept as regression tests.

Each is reduced to the smallest page that still shows the fault. A hang is guarded with a
generous pytest timeout (many times what a fixed build takes): it is a hang guard, not a
timing target.
"""

from __future__ import annotations

import pytest

from hostile_server import article_html
from newswatch.extract import extract_article


@pytest.mark.timeout(30)
def test_a_huge_date_value_does_not_stall_extraction():
    """Found by bench/fuzz_extract.py (seed 3): `<div>` x 10,000 spliced into the
    article:published_time meta value of a real page made extract_article take 20 s, all
    of it in dateparser.parse, which is superlinear in its input. A date string is never
    longer than a few dozen characters."""
    value = "2018-10-09T16:02:36+0" + "&lt;div&gt;" * 20_000
    html = article_html("Dated", head=f'<meta property="article:published_time" '
                                       f'content="{value}">', words="dateword")
    article = extract_article(html, "https://example.org/news/dated")
    assert article.ok
    assert "dateword" in article.text
