"""Content identity on a real SQLite database: a wire copy with another headline, trimmed
paragraphs and another outlet's boilerplate is found; different stories on one topic (same
names and places) are not; short texts match only exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch import dedup
from newswatch.store import open_db
from newswatch.dedup import DuplicateFinder, content_hash, normalise_text

# Three stories on one topic, written for these tests: the same people and places.
ANNOUNCED = """Foreign Minister Ilse Varga will travel to Morvik next Tuesday for two days of talks with President Aldo Brenner of Kestria, her ministry said on Friday.

The visit is the first by a Norland foreign minister to Kestria in eleven years. Officials in both capitals said the talks would cover the disputed fishing grounds in the Grey Sound, a stalled rail link across the border and the return of cultural artefacts removed during the war.

Varga is expected to meet Brenner at the Lantern Palace on Tuesday afternoon and to address students at Morvik University the next morning. A joint statement is planned but not guaranteed, a senior diplomat cautioned, speaking on condition of anonymity.

Relations between the neighbours cooled sharply two years ago after a collision between a Kestrian trawler and a Norland patrol boat left three sailors injured. Trade has since fallen by almost a third.

Opposition lawmakers in Norland have criticised the trip, arguing that Brenner has offered nothing in return for the visit. The ministry replied that dialogue was the only way to settle the fishing dispute."""

LATER_VISIT = """President Aldo Brenner welcomed Foreign Minister Ilse Varga to Morvik on Thursday for her second visit this year, as negotiators from Norland and Kestria reported progress on a draft fisheries agreement.

Unlike her trip in the spring, which produced no written commitments, this week's meetings began with a signing ceremony for a customs protocol that will let freight trains cross the border without a second inspection.

Varga told reporters at the Lantern Palace that a deal on the Grey Sound was now "within reach" but that several maps still had to be reconciled. Brenner said his government would present the text to parliament before the winter recess.

Fishing associations on both sides of the sound remain sceptical. A spokesman for the Kestrian trawler owners said quotas set in the capitals rarely reflected conditions at sea, and Norland's coastal mayors asked to be consulted before any signature.

The minister flies on to Stavel on Saturday for a regional security conference."""

OTHER_OUTLET_FIRST_VISIT = """Ilse Varga landed in Morvik on Tuesday morning, becoming the first foreign minister from Norland to set foot in Kestria for more than a decade.

Crowds were thin outside the Lantern Palace, where President Aldo Brenner received his guest with a brief handshake before the doors closed. Neither side took questions.

People familiar with the agenda said the fishing grounds of the Grey Sound dominated the first session, while the rail link and the disputed artefacts were left for lower-level officials. One Kestrian adviser described the mood as polite but cool.

At Morvik University on Wednesday, Varga told an audience of several hundred students that the two countries had spent too long talking about each other instead of to each other. Some in the hall applauded; a small group held up banners about the injured sailors.

Analysts in Stavel said a modest outcome, such as a hotline between the coast guards, would already count as a success for the visit."""

HEADER = ("Sign up for the Evening Digest to receive the day's most important stories in your "
          "inbox every weekday.")
FOOTER = ("Copyright 2026 Coastline Media. All rights reserved. This material may not be "
          "published, broadcast, rewritten or redistributed.")


def wire_copy(text: str) -> str:
    """The way a second outlet runs a wire story: its own headline and boilerplate, an
    added intro, the last paragraph cut, one sentence reworded."""
    paras = text.split("\n\n")
    paras = paras[:-1]
    paras[1] = paras[1].replace("The visit is the first by", "It will be the first visit from")
    return "\n\n".join([
        "Norland's top diplomat heads to Kestria",
        HEADER,
        "Our correspondent in the region reports on the preparations for a trip that "
        "officials describe as long overdue.",
        *paras,
        FOOTER,
    ])


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "newswatch.db")
    yield database
    database.conn.close()


def store(db, finder: DuplicateFinder, text: str, outlet: str = "gazette") -> tuple[int, int | None]:
    """Store an article the way the store pipeline does; returns (id, duplicate_of)."""
    duplicate_of = finder.find(text)
    now = "2026-11-24T10:00:00+00:00"
    with db.atomic():
        article_id = db["articles"].insert({
            "url": f"https://{outlet}.example/{db['articles'].count}", "outlet": outlet,
            "first_seen": now, "last_seen": now, "text": text,
            "content_hash": content_hash(text), "duplicate_of": duplicate_of}).last_pk
        if duplicate_of is None:
            finder.add(article_id, text)
    return article_id, duplicate_of


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", "2026-11-24T10:00:00+00:00")


def test_content_hash_is_pinned_and_ignores_layout():
    assert content_hash("Hello, World!") == "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
    assert content_hash("  hello\n\nWORLD ") == content_hash("Hello, World!")
    assert content_hash("Hello World") != content_hash("Hello Word")
    assert normalise_text("Ｆｕｌｌ-width “quotes”, Straße") == "full width quotes strasse"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.sampled_from([" ", "\n", "\t", " \n\n  "]))
def test_content_hash_is_stable_across_whitespace_and_case(text, space):
    words = text.split()
    assert content_hash(space.join(words)) == content_hash(" ".join(words))
    assert content_hash(text.upper()) == content_hash(text.casefold()) or \
        normalise_text(text.upper()) != normalise_text(text.casefold())
    assert content_hash(text) == content_hash(text)


def test_wire_copy_on_another_outlet_is_a_duplicate_of_the_first(db):
    finder = DuplicateFinder(db)
    original, dup = store(db, finder, ANNOUNCED, "wire")
    assert dup is None
    copy_id, dup = store(db, finder, wire_copy(ANNOUNCED), "coastline")
    assert dup == original
    # A third outlet running the same copy verbatim points at the first-seen original too
    # (exact hash of the stored copy, then its duplicate_of).
    _, dup = store(db, DuplicateFinder(db), wire_copy(ANNOUNCED).upper(), "third")
    assert dup == original


def test_same_topic_different_stories_stay_apart(db):
    finder = DuplicateFinder(db)
    ids = [store(db, finder, text)[1] for text in
           (ANNOUNCED, LATER_VISIT, OTHER_OUTLET_FIRST_VISIT)]
    assert ids == [None, None, None]
    # They share names and places but not text: far below the confirmation thresholds.
    for a, b in ((ANNOUNCED, LATER_VISIT), (ANNOUNCED, OTHER_OUTLET_FIRST_VISIT),
                 (LATER_VISIT, OTHER_OUTLET_FIRST_VISIT)):
        assert not dedup.is_near_duplicate(a, b)
    # ... while the wire copy of the first is still found among them.
    first = db.execute("SELECT min(id) FROM articles").fetchone()[0]
    assert finder.find(wire_copy(ANNOUNCED)) == first


def test_short_texts_match_only_exactly(db):
    finder = DuplicateFinder(db)
    short = ("Kestria's parliament approved the budget on Monday by 88 votes to 61, "
             "ending a month of delay.")
    original, _ = store(db, finder, short)
    assert finder.find(short.replace("Monday", "Tuesday")) is None
    assert finder.find(short.upper().replace(",", " ; ")) == original
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0


def test_empty_text_has_no_identity(db):
    finder = DuplicateFinder(db)
    store(db, finder, "")
    assert finder.find("") is None
    assert finder.find(" ... ") is None


def test_window_and_prune(db, monkeypatch):
    finder = DuplicateFinder(db, window_days=30)
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", "2026-10-01T10:00:00+00:00")
    old, _ = store(db, finder, ANNOUNCED, "wire")
    assert finder.find(wire_copy(ANNOUNCED)) == old
    monkeypatch.setenv("NEWSWATCH_FAKE_NOW", "2026-11-24T10:00:00+00:00")
    # Eight weeks later the story is outside the window: a copy is a new story.
    assert finder.find(wire_copy(ANNOUNCED)) is None
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == dedup.BANDS
    assert finder.prune() == dedup.BANDS
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0
    assert dedup.prune(db, "2026-11-24T00:00:00+00:00") == 0


def test_signatures_are_stable_across_runs():
    # Buckets are stored: they must not depend on the process (hash seeds, numpy state).
    words = normalise_text(ANNOUNCED).split()
    first = dedup.buckets(dedup.signature(dedup.shingles(words)))
    assert first == dedup.buckets(dedup.signature(dedup.shingles(list(words))))
    assert first[0].hex() == PINNED_BUCKET_0


PINNED_BUCKET_0 = "b739cdf4f24dfd10"
