"""bench/threads.py's interface, as the issue specifies it: `--data DIR` reads a folder of
either layout, `--json` prints one object per set with the named figures (pair-only sets with
the pair figures alone), and a folder without sets is skipped cleanly. The sets here are
small and written for the test (three clearly different events; two story chains)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import threads as bench  # noqa: E402

EVENTS = {
    "bridge": ("2026-03-02", [
        ("Valmora harbour bridge shut after cracks found",
         "Engineers closed the Valmora harbour bridge on Monday after inspectors found cracks "
         "in two steel girders. Ferries will carry commuters across the Brenna estuary while "
         "the Valmora council orders repairs to the girders."),
        ("Cracked girders close Valmora's harbour crossing",
         "The harbour bridge at Valmora is closed to traffic after an inspection found cracked "
         "girders. Commuters crossing the Brenna estuary must take the ferries, and the council "
         "said repairs to the steel girders could take weeks."),
        ("Valmora commuters turn to ferries as bridge closes",
         "Ferries across the Brenna estuary were crowded after Valmora closed its harbour "
         "bridge. Inspectors had found cracks in the steel girders, the council said, and "
         "repairs will begin once engineers finish their survey."),
    ]),
    "orchard": ("2026-03-09", [
        ("Tessaly orchard cooperative wins apricot export deal",
         "A cooperative of apricot growers in Tessaly signed its first export contract, "
         "shipping dried apricots to buyers in Norland. The Tessaly growers said the contract "
         "doubles what their orchards earn in a season."),
        ("Norland buyers sign contract for Tessaly apricots",
         "Buyers in Norland will take dried apricots from the Tessaly orchard cooperative under "
         "an export contract signed this week. The apricot growers expect the deal to double "
         "their orchards' earnings."),
        ("Dried apricots from Tessaly head to Norland",
         "The Tessaly apricot cooperative has an export contract: its orchards will ship dried "
         "apricots to Norland buyers, which the growers say doubles a season's income."),
    ]),
    "chess": ("2026-03-16", [
        ("Ilka Varga, 14, takes the national chess title",
         "Ilka Varga won the national chess championship at fourteen, beating the defending "
         "champion in a rapid tiebreak in Ostrava. Varga is the youngest chess champion the "
         "federation has crowned."),
        ("Teenager Varga crowned chess champion after tiebreak",
         "The chess federation crowned Ilka Varga its youngest champion after she beat the "
         "title holder in a rapid tiebreak at the Ostrava championship. Varga is fourteen."),
        ("Youngest ever: Varga wins chess championship in Ostrava",
         "At fourteen, Ilka Varga is the youngest national chess champion: she won the Ostrava "
         "championship's rapid tiebreak against the defending title holder, the federation "
         "said."),
    ]),
}

CHAINS = {
    "strike": [
        ("Lumen Rail drivers strike at Corvin depot",
         "Drivers at the Corvin depot of Lumen Rail walked out over rosters, cancelling most "
         "morning trains on the Corvin line."),
        ("Corvin depot strike by Lumen Rail drivers enters second day",
         "Lumen Rail's Corvin depot stayed shut as the drivers' strike over rosters went into "
         "its second day, with most trains on the Corvin line cancelled."),
    ],
    "library": [
        ("Marisol library reopens after roof repair",
         "The Marisol public library reopened its reading rooms after a year of roof repairs, "
         "with a new children's wing funded by the Marisol town council."),
        ("Marisol's restored library opens its children's wing",
         "Families queued at the restored Marisol library, whose roof repairs took a year; the "
         "town council paid for the new children's wing."),
    ],
}


def write_sets(folder: Path) -> None:
    rows, n = [], 0
    for event, (day, reports) in EVENTS.items():
        for i, (title, text) in enumerate(reports):
            n += 1
            rows.append({"id": f"e{n}", "event_id": event, "title": title, "text": text,
                         "published": f"{day}T{8 + i:02d}:00:00+00:00", "outlet": f"outlet{i}",
                         "lang": "en"})
    # a near-copy of the first bridge report, later: dedup's job, dropped before threading
    rows.append({**rows[0], "id": "copy", "published": "2026-03-02T12:00:00+00:00"})
    (folder / "events.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n",
                                         encoding="utf-8")
    articles = []
    for chain, reports in CHAINS.items():
        for i, (title, text) in enumerate(reports):
            articles.append({"id": f"{chain}{i}", "title": title, "text": text,
                             "published": f"2026-04-0{1 + i}T09:00:00+00:00", "lang": "en",
                             "chain": chain})
    pairs = [{"pair_id": f"p{a}{b}", "a_id": articles[a]["id"], "b_id": articles[b]["id"],
              "same_chain": articles[a]["chain"] == articles[b]["chain"]}
             for a in range(len(articles)) for b in range(a + 1, len(articles))]
    (folder / "chains_articles.jsonl").write_text(
        "\n".join(json.dumps(a) for a in articles) + "\n", encoding="utf-8")
    (folder / "chains_pairs.jsonl").write_text(
        "\n".join(json.dumps(p) for p in pairs) + "\n", encoding="utf-8")


def run_json(capsys, *argv) -> list[dict]:
    assert bench.main(list(argv)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_prints_each_sets_figures_and_threads_keep_events_apart(tmp_path, capsys):
    write_sets(tmp_path)
    *sets, defaults = run_json(capsys, "--data", str(tmp_path), "--json")
    assert "threshold" in defaults["defaults"]
    by_name = {s["set"]: s for s in sets}
    assert set(by_name) == {"chains", "events"}

    events = by_name["events"]
    for key in ("articles", "b3_p", "b3_r", "b3_f1", "pair_p", "pair_r", "ms_per_article"):
        assert key in events
    assert events["articles"] == 9 and events["dropped_copies"] == 1
    # three clearly different events, three reports each: the product's defaults find them
    assert events["in_fold"]["b3_f1"] == 1.0 and events["in_fold"]["pair_p"] == 1.0
    # the baselines come from the same run
    assert events["singletons"]["pair_r"] == 0.0 and events["singletons"]["b3_p"] == 1.0
    assert "threshold" in events["single_link"]

    chains = by_name["chains"]
    assert "b3_f1" not in chains and "b3_f1" not in chains["in_fold"]
    assert {"pair_p", "pair_r", "ms_per_article"} <= chains.keys()
    assert chains["in_fold"]["pair_p"] == 1.0


def test_a_folder_without_sets_is_skipped(tmp_path, capsys):
    assert bench.main(["--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("skipped: no labelled event sets")
