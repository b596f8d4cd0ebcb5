"""Story threads through the whole product (issue 16 part 2): a real crawl of the fixture
site, a real database (SQLite, and PostgreSQL when NEWSWATCH_TEST_POSTGRES names a server),
a real SMTP server. One visit told by two outlets over two days is one
thread; another visit a year earlier and the trip the other way are their own threads;
the email groups by thread; `alert = "thread"` alerts once; a thread survives a restart
(one crawl process per pass). All prose below is invented for these tests."""

from __future__ import annotations

import json
import re

from conftest import StoredDB, run_newswatch, write_config

STORIES = {
    "kellberg-announced": ("ledger", "-30h", "Kellberg to fly to Pyongyang this week", [
        "Norlandia's foreign minister Arvid Kellberg will travel to Pyongyang later this "
        "week, his spokeswoman Marit Solheim told reporters in Velmar on Monday.",
        "The visit is meant to prepare the reopening of the Norlandian embassy in Pyongyang, "
        "closed for eleven years, and to raise the case of two Norlandian trawlermen held by "
        "North Korea since the spring.",
        "Kellberg will also discuss fishing quotas in the disputed grounds east of the "
        "Hallvik bank, Solheim said, without giving the dates of his stay.",
        "Opposition members in Velmar said the minister should not travel before the two "
        "trawlermen are released.",
    ]),
    "kellberg-lands-wire": ("meridian", "-5h", "Norlandian minister Kellberg lands in "
                            "Pyongyang", [
        "Arvid Kellberg, Norlandia's foreign minister, landed in Pyongyang on Wednesday at the "
        "start of a two-day visit, the first by a Norlandian foreign minister in over a "
        "decade.",
        "He was greeted at Sunan airport by North Korean vice foreign minister Pak Chol-min. "
        "Kellberg told reporters on the tarmac that he hoped to leave with the two detained "
        "Norlandian trawlermen on his plane.",
        "Talks on reopening the Norlandian embassy in Pyongyang and on fishing near the "
        "Hallvik bank are to start on Thursday morning, officials in Velmar said.",
        "The visit was announced by Kellberg's spokeswoman Marit Solheim on Monday.",
    ]),
    "kellberg-arrives": ("ledger", "-4h", "Kellberg arrives in North Korea, presses for "
                         "trawlermen's release", [
        "Foreign minister Arvid Kellberg arrived in Pyongyang on Wednesday and said the fate "
        "of the two Norlandian trawlermen would be the first item of his talks.",
        "Pak Chol-min, North Korea's vice foreign minister, met Kellberg at the airport. "
        "Norlandian officials said the embassy, shut for eleven years, could reopen before "
        "the winter if the talks go well.",
        "A dispute over the fishing grounds of the Hallvik bank is also on the agenda for "
        "Thursday, according to spokeswoman Marit Solheim.",
        "Relatives of the trawlermen gathered outside the foreign ministry in Velmar as the "
        "minister's plane landed.",
    ]),
    "kellberg-first-visit": ("ledger", "-1y", "Kellberg makes first trip to Pyongyang as "
                             "minister", [
        "Arvid Kellberg arrived in Pyongyang on Friday on his first visit to North Korea as "
        "Norlandia's foreign minister, a trip devoted to a grain aid programme.",
        "Kellberg met North Korean officials at the foreign ministry and visited a warehouse "
        "near Nampo where Norlandian grain is stored.",
        "He told reporters that reopening the embassy was not yet on the table.",
        "The visit ended with a dinner hosted by the North Korean agriculture minister.",
    ]),
    "ri-to-velmar": ("meridian", "-2h", "North Korean foreign minister Ri heads to Velmar", [
        "Ri Song-gyu, North Korea's foreign minister, began a state visit to Norlandia on "
        "Saturday, the first such trip by a North Korean envoy.",
        "Ri is due to meet prime minister Helga Strand and to open a trade office in the "
        "port of Tarnvik, where shipping agents expect new cargo routes to Asia.",
        "His delegation includes the heads of two state trading companies and a deputy "
        "minister for railways, the government's protocol office said.",
        "Diplomats described the trip as a reply to the earlier visit by Kellberg. "
        "Protesters plan a march to the parliament during his three-day stay.",
    ]),
}

WATCH = """
[[watches]]
name = "Kellberg"
query = 'Kellberg'
"""


def add_stories(site, names) -> None:
    for name in names:
        outlet, published, title, paragraphs = STORIES[name]
        (site.content / "articles" / f"{outlet}-{name}.json").write_text(json.dumps({
            "id": f"{outlet}-{name}", "outlet": outlet, "slug": name, "title": title,
            "author": "Staff", "published": published, "in_feed": True, "language": "en",
            "summary": paragraphs[0][:80], "paragraphs": paragraphs}), encoding="utf-8")


def crawl(config) -> None:
    result = run_newswatch("crawl", config=config)
    assert result.returncode == 0, result.stderr


def threads(db: StoredDB) -> dict[str, int]:
    return {r["url"].rstrip("/").rsplit("/", 1)[1]: r["thread_id"]
            for r in db["articles"].rows if r["duplicate_of"] is None}


def plain(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_one_visit_is_one_thread_other_visits_are_not_and_the_email_groups(tmp_path, site,
                                                                           smtp, store_url):
    add_stories(site, STORIES)
    config = write_config(tmp_path, site, smtp=smtp, watches=WATCH, database=store_url)
    db = StoredDB(store_url)
    crawl(config)
    t = threads(db)
    visit = {t["kellberg-announced"], t["kellberg-lands-wire"], t["kellberg-arrives"]}
    assert len(visit) == 1 and None not in visit, t
    assert t["kellberg-first-visit"] not in visit
    assert t["ri-to-velmar"] not in visit
    assert t["ri-to-velmar"] != t["kellberg-first-visit"]
    # the bundled stories are threads too, and none joined the visit
    assert sum(v in visit for v in t.values()) == 3

    [msg] = [m for m in smtp.messages if "Kellberg" in m["Subject"]]
    text = plain(msg)
    # the header may wrap after a comma (plain text is wrapped at 72 columns)
    text = re.sub(r",\n\s+", ", ", text)
    header = re.search(r"^\d+\. (.+): 3 reports, (.+)$", text, re.M)
    assert header, text
    assert set(header.group(2).split(", ")) == {"Ledger", "Meridian"}, text
    # the first report leads, the later ones are listed under it
    block = text[header.end():].split("\n\n")[0]
    assert block.index("Kellberg to fly to Pyongyang") < block.index("Later reports:")
    assert block.index("Later reports:") < block.index("Kellberg arrives in North Korea")
    assert "Norlandian minister Kellberg lands in Pyongyang" in block
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "3 reports" in html and "Later reports:" in html

    url = next(site.urls["meridian"] + p for p in ["/news/"])
    [row] = db.execute("SELECT url FROM articles WHERE url LIKE '%kellberg-lands-wire%'")
    result = run_newswatch("explain", row[0], config=config)
    assert result.returncode == 0, result.stderr
    assert re.search(r"thread: +\d+ \".+\": 3 reports \(", result.stdout), result.stdout
    assert "shared terms:" in result.stdout and "kellberg" in result.stdout.lower()
    # and how close it came to each of the thread's earlier reports, not only to their mix
    assert re.search(r"similarity: .*member_min 0\.\d+", result.stdout), result.stdout
    # and how its title met the thread's leads (or its lead their titles)
    assert re.search(r"similarity: .*names [\d.]+, cross [\d.]+, member [\d.]+, member_min",
                     result.stdout), result.stdout
    assert url


def test_alert_thread_sends_once_and_a_thread_spans_a_restart(tmp_path, site, smtp,
                                                             store_url):
    add_stories(site, ["kellberg-announced", "kellberg-first-visit"])
    config = write_config(tmp_path, site, smtp=smtp,
                          watches=WATCH + 'alert = "thread"\n', database=store_url)
    db = StoredDB(store_url)
    crawl(config)
    first = threads(db)["kellberg-announced"]
    [mail1] = [m for m in smtp.messages if "Kellberg" in m["Subject"]]
    assert "Kellberg to fly to Pyongyang" in plain(mail1)

    add_stories(site, ["kellberg-lands-wire", "kellberg-arrives"])
    crawl(config)  # a new process: the index comes back from the database
    t = threads(db)
    assert t["kellberg-lands-wire"] == first and t["kellberg-arrives"] == first
    # the restored thread still knows its reports, not only their mix (the member floor reads
    # them): the wire report was compared with the announcement it follows
    [why] = [json.loads(r[0]) for r in db.execute(
        "SELECT thread_reasons FROM articles WHERE url LIKE '%kellberg-lands-wire%'")]
    assert why["member"] > 0 and why["member_min"] > 0
    assert len([m for m in smtp.messages if "Kellberg" in m["Subject"]]) == 1
    reasons = {r[0] for r in db.execute(
        "SELECT l.reason FROM alerts l JOIN articles a ON a.id = l.article_id "
        "WHERE a.url LIKE '%kellberg-lands-wire%' OR a.url LIKE '%kellberg-arrives%'")}
    assert reasons == {"more coverage of a thread already alerted"}

    add_stories(site, ["ri-to-velmar"])
    crawl(config)
    mails = [m for m in smtp.messages if "Kellberg" in m["Subject"]]
    assert len(mails) == 2
    assert "1 new story" in mails[1]["Subject"]
    text = plain(mails[1])
    assert "North Korean foreign minister Ri heads to Velmar" in text
    cover = text[text.index("More coverage"):]
    assert "Kellberg arrives in North Korea" in cover
    assert "Norlandian minister Kellberg lands in Pyongyang" in cover
    # listed once: a further email would not list them again
    assert not [r for r in db.execute("SELECT l.id FROM alerts l LEFT JOIN thread_coverage c "
                                      "ON c.alert_id = l.id WHERE l.reason LIKE 'more cov%' "
                                      "AND c.alert_id IS NULL")]
