"""Story threads (newswatch.threads): one event across outlets is one thread; other events
of the same kind are not. Fixture prose is invented for these tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newswatch.threads import COLD_THRESHOLD, DEFAULT_MODEL, WARMUP_DOCS, Doc, ThreadIndex

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

# Background reports (other news) so that document frequencies look like a newsroom's.
BACKGROUND = [
    ("Parliament debates the budget", "Members of parliament debated the budget on Monday. "
     "The finance minister said spending on schools and hospitals would rise next year, "
     "while the opposition said the plan relied on optimistic forecasts of growth."),
    ("Storm closes roads in the north", "A storm brought heavy snow to the north on Tuesday. "
     "Police closed two roads and asked drivers to stay at home until the ploughs had "
     "cleared the passes. Schools in three districts were shut for the day."),
    ("Central bank holds rates", "The central bank kept its main interest rate unchanged on "
     "Wednesday and said inflation was slowing. The governor told reporters that the bank "
     "would watch wages and energy prices before deciding on a cut."),
    ("Football club names new coach", "The club said on Thursday that its new coach would "
     "start next month. He signed a three-year contract and told supporters he wanted the "
     "team to play attacking football from the first match of the season."),
    ("Minister visits flood area", "The interior minister visited towns hit by floods and "
     "promised money for repairs. Residents told the minister that help had arrived late and "
     "that many houses were still without power a week after the river burst its banks."),
    ("Talks on trade deal resume", "Negotiators met in the capital for a new round of talks on "
     "a trade deal. Officials said progress had been made on tariffs for farm goods, but that "
     "rules for services were still being discussed by both delegations."),
]

ANNOUNCE_A = (
    "Norlandia's foreign minister to visit Pyongyang",
    "Norlandia's foreign minister Arvid Kellberg will travel to Pyongyang next week for talks "
    "with North Korean officials, the ministry in Velmar said on Monday. Kellberg is expected "
    "to discuss the reopening of Norlandia's embassy, fishing rights and the fate of two "
    "Norlandian sailors held since last spring. It will be the first visit to North Korea by "
    "a Norlandian foreign minister in more than a decade.")
ANNOUNCE_B = (
    "Kellberg plans rare trip to North Korea",
    "Arvid Kellberg, the foreign minister of Norlandia, plans to fly to Pyongyang in the "
    "coming days, his spokeswoman announced in Velmar. The trip is meant to prepare the "
    "reopening of the Norlandian embassy in Pyongyang; the two sailors detained by North Korea "
    "and a dispute over fishing rights are also on the agenda, she said.")
ARRIVAL_A = (
    "Kellberg arrives in Pyongyang",
    "Norlandian foreign minister Arvid Kellberg arrived in Pyongyang on Tuesday and was met "
    "at the airport by North Korean officials. Kellberg said he hoped his visit would lead to "
    "the reopening of Norlandia's embassy and the release of the two Norlandian sailors. Talks "
    "on fishing rights are scheduled for Wednesday.")
ARRIVAL_B = (
    "Norlandia's top diplomat lands in North Korea",
    "Arvid Kellberg landed in Pyongyang on Tuesday, starting the first visit by a Norlandian "
    "foreign minister to North Korea in over ten years. Before leaving Velmar, Kellberg told "
    "reporters the embassy could reopen this year and that he would ask for the two detained "
    "Norlandian sailors to be freed.")
NEXT_YEAR = (
    "Kellberg returns to Pyongyang",
    "Norlandia's foreign minister Arvid Kellberg arrived in Pyongyang on Thursday for his "
    "second visit to North Korea, a year after the embassy in the city reopened. Kellberg is "
    "expected to sign an agreement on fishing rights and to meet Norlandian diplomats "
    "working at the embassy.")
OTHER_WAY = (
    "North Korean foreign minister Ri Song-gyu heads to Velmar",
    "Ri Song-gyu, North Korea's foreign minister, flew to Velmar on Thursday on the first "
    "visit by a North Korean foreign minister to Norlandia. Ri will meet Norlandian prime "
    "minister Helga Strand and tour the port of Hallvik, where a North Korean trade office "
    "is planned. The visit returns the one Kellberg made to Pyongyang earlier this month.")
FIRE_DUNMORE = (
    "Three dead in warehouse fire in Dunmore",
    "Three workers died when a fire swept through a furniture warehouse in Dunmore early on "
    "Saturday, the fire service said. Forty firefighters fought the blaze on Quarry Lane for "
    "five hours. The owner, Tallis Furnishings, said the alarm had been checked in January. "
    "Police in Dunmore said the cause was not yet known.")
FIRE_DUNMORE_2 = (
    "Dunmore warehouse blaze: victims named",
    "Police named the three workers killed in Saturday's fire at the Tallis Furnishings "
    "warehouse on Quarry Lane in Dunmore. Investigators said the blaze began in a loading bay; "
    "the fire service said forty firefighters had needed five hours to bring it under control.")
FIRE_CASTLEBAY = (
    "Warehouse fire in Castlebay injures five",
    "Five people were hurt when fire broke out in a paper warehouse in Castlebay on Saturday "
    "afternoon. Firefighters from Brennock and Castlebay contained the blaze near the "
    "harbour within two hours, the fire service said. The company, Orwen Paper, said the "
    "injured were drivers waiting to unload. Police in Castlebay said the cause was unclear.")

# A county roundup that tells the Dunmore fire and, in its second half, a regatta called off
# in Castlebay; then a report of the regatta alone.
ROUNDUP = (
    "Dunmore warehouse fire; Castlebay regatta called off",
    "Three workers died when a fire swept through the Tallis Furnishings warehouse on Quarry "
    "Lane in Dunmore on Saturday. Along the coast in Castlebay, organisers called off the "
    "Orwen Cup regatta after gales snapped two masts in the harbour, and skippers from "
    "Brennock and Hallvik were told to keep their yachts on moorings until Monday.")
REGATTA = (
    "Gales sink Castlebay regatta",
    "The Orwen Cup regatta in Castlebay was called off on Saturday after gales snapped two "
    "masts in the harbour. Skippers from Brennock and Hallvik kept their yachts on moorings, "
    "and the organisers said the race would be sailed on Monday if the wind dropped.")

def _doc(i, story, when):
    title, text = story
    return Doc(i, title, text, when)


def _index(**kw) -> ThreadIndex:
    index = ThreadIndex(**kw)
    # an archive's worth of everyday words (the same few reports, many times over)
    index.prime(Doc(-i, t, x, T0) for i, (t, x) in enumerate(BACKGROUND * 40, 1))
    return index


def _visit_stream():
    h = timedelta(hours=1)
    return [
        _doc(1, ANNOUNCE_A, T0),
        _doc(2, ANNOUNCE_B, T0 + 5 * h),
        _doc(3, ARRIVAL_A, T0 + 26 * h),
        _doc(4, ARRIVAL_B, T0 + 29 * h),
    ]


# Both scorers: the hand weights (default) and the logistic model (model=DEFAULT_MODEL).
SCORERS = pytest.mark.parametrize("scorer", [{}, {"model": DEFAULT_MODEL}], ids=["hand", "model"])


@SCORERS
def test_one_visit_by_two_outlets_over_two_days_is_one_thread(scorer):
    index = _index(**scorer)
    decisions = [index.assign(d) for d in _visit_stream()]
    assert decisions[0].new and decisions[0].thread_id == 1
    assert [d.thread_id for d in decisions] == [1, 1, 1, 1]
    assert not any(d.new for d in decisions[1:])
    # why the arrival joined: the shared terms name the event
    why = decisions[2].reasons
    assert "kellberg" in why["shared"] and "pyongyang" in why["shared"]
    assert decisions[2].score >= index.threshold and why["hours"] > 20


@SCORERS
def test_another_visit_a_year_later_and_the_trip_the_other_way_start_their_own_threads(scorer):
    index = _index(**scorer)
    for d in _visit_stream():
        index.assign(d)
    other_way = index.assign(_doc(5, OTHER_WAY, T0 + timedelta(days=2, hours=8)))
    assert other_way.new and other_way.thread_id == 5
    later = index.assign(_doc(6, NEXT_YEAR, T0 + timedelta(days=366)))
    assert later.new and later.thread_id == 6


@SCORERS
def test_two_similar_incidents_in_different_cities_on_one_day_are_two_threads(scorer):
    index = _index(**scorer)
    day = datetime(2026, 5, 9, 6, 0, tzinfo=timezone.utc)
    a = index.assign(_doc(10, FIRE_DUNMORE, day))
    b = index.assign(_doc(11, FIRE_CASTLEBAY, day + timedelta(hours=7)))
    c = index.assign(_doc(12, FIRE_DUNMORE_2, day + timedelta(hours=9)))
    assert a.new and b.new
    assert b.thread_id != a.thread_id
    assert c.thread_id == a.thread_id and not c.new


@SCORERS
def test_a_thread_survives_a_restart_through_its_rows(scorer):
    index = _index(**scorer)
    stream = _visit_stream()
    for d in stream[:2]:
        index.assign(d)
    rows = index.rows()
    assert {"meta", "threads", "terms", "df"} <= set(rows)
    restored = ThreadIndex.from_rows(rows, **scorer)
    after = [restored.assign(d) for d in stream[2:]]
    assert [d.thread_id for d in after] == [1, 1]
    # the restored thread scores the arrival as the running one does (members included)
    running = index.assign(stream[2])
    assert after[0].score == running.score and after[0].reasons["member"] > 0


def test_expired_threads_leave_the_index_so_memory_stays_flat():
    index = _index(window_hours=72)
    sizes = []
    for i in range(600):
        # a new, unrelated event every two hours, each with its own rare words
        words = " ".join(f"term{i}x{k}" for k in range(30))
        when = T0 + timedelta(hours=2 * i)
        index.assign(Doc(100 + i, f"Event {i} headline{i}", f"{words} {words}", when))
        sizes.append((len(index), len(index.postings)))
    # 72 h of one article every 2 h: at most 37 threads active, whatever the stream's length
    assert max(n for n, _ in sizes[100:]) <= 37
    assert sizes[-1] == sizes[300]
    assert len(index.rows()["threads"]) == len(index)


def test_normalise_is_the_callers_term_folding():
    calls = []

    def fold(text):
        calls.append(text)
        return text.casefold().replace("келлберг", "kellberg")

    index = _index(normalise=fold)
    for d in _visit_stream()[:3]:
        index.assign(d)
    cyrillic = ("Келлберг arrives in Pyongyang", ARRIVAL_B[1].replace("Kellberg", "Келлберг"))
    decision = index.assign(_doc(4, cyrillic, T0 + timedelta(hours=29)))
    assert calls and decision.thread_id == 1


# The weights before the member floor: the cosines against the thread's mix alone.
CENTROID_ONLY = {"title": 0.2, "lead": 0.2, "body": 0.5, "names": 0.1}


def test_a_report_close_to_a_threads_mix_but_not_to_its_first_report_does_not_chain():
    # The roundup belongs with the fire; the regatta report is close to the fire thread's
    # mix (the roundup brought its words in) but shares almost nothing with the fire report
    # itself. Judged on the centroid alone it would chain into the fire's thread.
    day = datetime(2026, 5, 9, 6, 0, tzinfo=timezone.utc)
    outcomes = {}
    # the floor alone (the thread's bars off), then the product's defaults (bars on, no floor)
    guards = {"none": {"member_floor": 0.0, "tight_cap": 0.0, "cohesion": 0.0},
              "floor": {"member_floor": 0.2, "tight_cap": 0.0, "cohesion": 0.0},
              "bars": {}}
    for name, kw in guards.items():
        index = _index(threshold=0.3, weights=CENTROID_ONLY, **kw)
        index.assign(_doc(10, FIRE_DUNMORE, day))
        roundup = index.assign(_doc(11, ROUNDUP, day + timedelta(hours=5)))
        assert roundup.thread_id == 10
        outcomes[name] = index.assign(_doc(12, REGATTA, day + timedelta(hours=7)))
    assert outcomes["none"].thread_id == 10  # the chain the guards prevent
    regatta = outcomes["floor"]
    assert regatta.new and regatta.thread_id == 12
    assert regatta.reasons["nearest"] == 10 and regatta.reasons["below_member_floor"]
    assert regatta.reasons["member_min"] < 0.2 < regatta.reasons["member"]
    # the roundup joined the fire's thread close to its report: the regatta report, far from
    # that report, is under the cohesion bar the roundup set
    regatta = outcomes["bars"]
    assert regatta.new and regatta.thread_id == 12 and regatta.reasons["nearest"] == 10
    assert regatta.reasons["below_thread_cohesion"]
    assert regatta.reasons["member_min"] < regatta.reasons["thread_member_bar"]
    assert regatta.reasons["vetoed_score"] > 0.3  # it would have joined but for the bar
    assert "below_member_floor" not in regatta.reasons


def test_a_threads_bars_come_from_its_reports_and_survive_a_restart():
    index = _index()
    decisions = [index.assign(d) for d in _visit_stream()]
    thread = index.threads[1]
    joined = [d.score for d in decisions[1:]]
    assert thread.joins == 3 and abs(thread.join_score - sum(joined)) < 1e-3
    # every report here joined above the cap: the score bar is the cap, not their mean
    assert thread.bars(0.35, 0.7, 0.2)[0] == 0.35 < sum(joined) / 3
    restored = ThreadIndex.from_rows(index.rows())
    again = restored.threads[1]
    assert (again.joins, again.join_score, again.join_member) == (
        thread.joins, thread.join_score, thread.join_member)
    # state saved before the bars were kept: the thread asks only the threshold
    rows = index.rows()
    rows["terms"] = [r for r in rows["terms"] if r[1] != "joins"]
    assert ThreadIndex.from_rows(rows).threads[1].bars(0.35, 0.7, 0.2) == (0.0, 0.0)


CRANE_A = (
    "Crane topples onto Hallvik quay",
    "A container crane toppled onto the quay at the port of Hallvik on Monday morning, "
    "crushing two lorries. No one was hurt, the harbour master Jorun Vesk said, because the "
    "drivers had left their cabs for a shift change. Gusts of ninety kilometres an hour had "
    "been forecast for the coast. Loading at the Hallvik container terminal was suspended.")
CRANE_B = (
    "Port stops loading after accident",
    "Crane topples onto Hallvik quay: loading at the container terminal was halted on Monday "
    "after the crane came down in strong gusts and flattened two lorries whose drivers were "
    "away on a shift change. Harbour master Jorun Vesk said the terminal would stay shut "
    "until engineers had checked the other cranes.")


@SCORERS
def test_a_headline_retold_in_another_outlets_first_lines_is_one_thread(scorer):
    index = _index(**scorer)
    first = index.assign(_doc(20, CRANE_A, T0))
    second = index.assign(_doc(21, CRANE_B, T0 + timedelta(hours=3)))
    assert first.new and second.thread_id == 20 and not second.new
    # the two titles share little; the second's lead retells the first's title
    why = second.reasons
    assert why["cross"] > why["title"]


def test_a_new_store_asks_the_stricter_threshold_until_its_frequencies_are_warm():
    # The end-to-end fixture's wire report of the visit and the trip the other way, in a
    # store that holds nothing else yet: idf cannot tell their shared names from common
    # words, and the trip scores between the chosen threshold and the cold one.
    from test_threads_e2e import STORIES

    def story(i, name, hours):
        _, _, title, paragraphs = STORIES[name]
        return Doc(i, title, "\n\n".join(paragraphs), T0 + timedelta(hours=hours))

    cold = ThreadIndex()
    cold.assign(story(1, "kellberg-lands-wire", 0))
    trip = cold.assign(story(2, "ri-to-velmar", 3))
    assert cold.df.n < WARMUP_DOCS
    assert trip.new and trip.reasons["nearest"] == 1
    assert cold.threshold < trip.reasons["nearest_score"] < COLD_THRESHOLD
    # the visit's own reports clear the cold threshold
    assert cold.assign(story(3, "kellberg-arrives", 1)).thread_id == 1
    # an index that has counted an archive asks the chosen threshold
    warm = _index()
    assert warm.df.n >= WARMUP_DOCS and warm.threshold < COLD_THRESHOLD
