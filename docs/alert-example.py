"""Render the example alert shown in the README (docs/alert-example.html).

    python docs/alert-example.py

Uses the real renderer (newswatch.mail.render_alert) on made-up stories; then, for the PNG,
headless Chromium: chromium --headless --screenshot=docs/alert-example.png
--window-size=800,1000 file://$PWD/docs/alert-example.html
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from newswatch import mail
from newswatch.config import load_config

HERE = Path(__file__).resolve().parent

CONFIG = """
database = "example.db"
timezone = "Europe/Moscow"
[mail]
from = "newswatch@example.org"
to = ["desk@example.org"]
[[outlets]]
id = "moscowtimes"
name = "The Moscow Times"
feeds = ["https://www.themoscowtimes.com/rss/news"]
[[watches]]
name = "Lavrov in Korea"
query = 'Lavrov AND ("North Korea" OR Pyongyang)'
"""

STORIES = [
    mail.Story(
        url="https://www.themoscowtimes.com/2026/03/02/lavrov-lands-in-pyongyang-a90001",
        title="Lavrov Lands in Pyongyang for Two Days of Talks",
        outlet="The Moscow Times", published="2026-03-02T06:40:00+00:00",
        text=("Foreign Minister Sergei Lavrov arrived in Pyongyang on Monday morning, the "
              "ministry said, for talks on trade corridors and a rail link across the Tumen "
              "River. It is his third visit to North Korea in two years."),
        also_in=["The Independent"]),
    mail.Story(
        url="https://www.independent.co.uk/news/world/asia/north-korea-russia-rail-b2900001",
        title="Moscow and Pyongyang sign rail deal as ties deepen",
        outlet="The Independent", published="2026-03-01T17:05:00+00:00",
        text=("The agreement, signed in the presence of Russia's top diplomat Sergei Lavrov, "
              "commits both sides to rebuilding the Khasan–Rajin line. Analysts in Seoul "
              "said the deal carried more symbolic than economic weight for North Korea.")),
    mail.Story(
        url="https://www.themoscowtimes.com/2026/03/01/what-lavrov-wants-a90002",
        title="Analysis: What Lavrov Wants From Kim Jong Un",
        outlet="The Moscow Times", published=None, first_seen="2026-03-01T09:12:00+00:00",
        text=("Behind the ceremony, officials say, Lavrov is pressing Pyongyang for a share of "
              "the artillery output that Moscow has come to rely on since 2023.")),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "newswatch.toml"
        path.write_text(CONFIG, encoding="utf-8")
        config = load_config(path)
    msg = mail.render_alert(config.watches[0], STORIES, config=config,
                            message_id="<20260302064500.example@example.org>")
    html = msg.get_body(preferencelist=("html",)).get_content()
    (HERE / "alert-example.html").write_text(html, encoding="utf-8")
    print(HERE / "alert-example.html")


if __name__ == "__main__":
    main()
