"""Story threads: the reports of one event across outlets, found online, one decision per
article (after Miranda et al. 2018, "Multilingual clustering of streaming news").

Each original becomes four TF-IDF sub-vectors (title, lead = the first LEAD_WORDS words of
the text, body, names = capitalised words not opening a sentence) and is compared with the
threads active in the window: those whose last report is at most `window_hours` older than
the stream's clock. Candidates come from an inverted index of the threads' rarer terms (idf
>= MIN_IDF), so the work per article depends on the window, never on the archive. A
candidate is scored on pair features: the four cosines against the thread's centroids, a
cross cosine (the article's title against the thread's leads, its lead against the thread's
titles, whichever is higher: outlets retell one another's headlines in their first lines),
the best cosine against the bodies of its last MEMBERS reports (a report close to one member
but not yet to the mix), the time since its last report as a fraction of the window, and a
names conflict (both name several people or places, almost none in common). The default
score is the weighted sum of the title, lead, body, names and cross cosines and of the least
body cosine against the last reports (complete link), less a time penalty that grows with
the age; two vetoes: the names conflict, and (when `member_floor` > 0; off by default) a
body that shares less than `member_floor` with any of the last reports (a thread must not
chain from one event to the next through a report that tells both); and the thread's own
bars: once reports have joined a thread, a newcomer must score about as well as they did
and be about as close to the last reports as they were (DEFAULT_TIGHT_CAP, DEFAULT_COHESION).
The article joins the best candidate at or above `threshold`, or starts a thread named by
its own id. `model=`
(e.g. DEFAULT_MODEL) scores by a logistic model over all the pair features instead, as
Miranda et al. fit theirs; fitted by `bench/threads.py --learned`, it did not beat the hand
weights out of fold on every set, so it is not the default.

Precision first (a wrong merge hides a new story): centroids, not single links (one shared
paragraph cannot chain two events), and a thread expires out of the window, so the same
kind of event months later starts its own thread whatever its words.

Memory stays flat: expired threads leave the index; centroids keep their CENTROID_TERMS
heaviest terms per field; document frequencies are counted in a fixed array of DF_BUCKETS
hashed buckets (newswatch.tfidf: a collision only blurs the idf of two rare terms).

State as rows (for the store, which owns the SQL): `rows()` -> {"meta": [(key, value)],
"threads": [(thread_id, first_ts, last_ts, size)], "terms": [(thread_id, field, term,
weight)], "df": [(bucket, count)]}; fields: the four sub-vectors' sums, "m0".."m3" (the last
reports' bodies), "joins" (the bars: "n", "score", "member_min" sums); `from_rows(rows,
**params)` rebuilds it (postings derived from the terms). Times are POSIX seconds.

Term folding: `normalise` (text -> text, default NFKC + casefold) is applied before
tokenising; a cross-script fold (transliteration) can be passed in.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, NamedTuple

import numpy as np

from .tfidf import DocumentFrequencies, cosine, dot, unit

FIELDS = ("title", "lead", "body", "names")
LEAD_WORDS = 50
MAX_WORDS = 2000          # longer texts are read on their first MAX_WORDS words
MIN_IDF = 2.5             # terms rarer than this (df/N below ~22%) are indexed ...
WARMUP_DOCS = 200         # ... once the frequencies have seen WARMUP_DOCS articles
QUERY_TERMS = 12          # an article looks up its QUERY_TERMS heaviest rare terms
INDEX_TERMS = 40          # a thread is findable by its INDEX_TERMS heaviest rare terms
CENTROID_TERMS = 150      # per field; the tail of a long thread's centroid is dropped
DOC_TERMS = 100           # an article's vectors keep their DOC_TERMS heaviest terms
MAX_CANDIDATES = 10       # scored per article (most shared query terms first; 25 gave the
                          # same decisions on every labelled set at 1.5x the cost)
MEMBERS = 4               # a thread keeps the body vectors of its last MEMBERS reports
DEFAULT_WINDOW_HOURS = 72.0
# Chosen by bench/threads.py on all labelled sets (see the README's thread figures).
PAIR_FEATURES = ("title", "lead", "body", "names", "member", "member_min", "cross", "age",
                 "conflict")
# Fitted by `bench/threads.py --learned` (logistic regression, threshold chosen with it);
# out of fold it loses to the hand weights (allsides, basil, ECB+'s precision): not default.
DEFAULT_MODEL = {"bias": -3.847, "title": 2.686, "lead": -1.793, "body": -0.742,
                 "names": 2.791, "member": 5.746, "member_min": 9.619, "cross": -0.277,
                 "age": -6.656, "conflict": -1.88}
MODEL_THRESHOLD = 0.7     # a probability, for model=
# The hand-weighted score: the four cosines, the least body cosine against the thread's
# last MEMBERS reports ("member_min": complete link, not the mix), and the better of
# title-against-leads and lead-against-titles ("cross": one outlet's headline told in
# another's first lines). Any pair feature may be weighed (a subclass may add its own).
DEFAULT_WEIGHTS = {"title": 0.15, "lead": 0.1, "body": 0.3, "names": 0.1, "member_min": 0.3,
                   "cross": 0.1}
DEFAULT_THRESHOLD = 0.2   # on the weighted cosine sum (a one-report thread asks only this)
# Until the frequencies have seen WARMUP_DOCS articles (a new store) idf cannot tell a name
# from a common word: a report asks at least this. In a dozen-article store the minister's
# trip the other way scored 0.27 against the visit (tests/test_threads_e2e.py).
COLD_THRESHOLD = 0.3
DEFAULT_TIME_PENALTY = 0.3  # score lost at the far edge of the window
# Complete link against the recent reports: an article joins a thread only if its body
# shares at least this cosine with each of the thread's last MEMBERS reports, not only with
# their mix (a centroid grows towards whatever joined last: A, A+B, B, B+C). The bench's
# best point has no floor: the least member cosine weighs in the score instead
# (DEFAULT_WEIGHTS["member_min"]) and sets the thread's cohesion bar (DEFAULT_COHESION).
DEFAULT_MEMBER_FLOOR = 0.0
# Two reports that each name several people or places but almost none in common are two
# events (the same kind of fire in two towns), whatever their other words share. On the
# labelled sets this guard costs at most 0.002 B-cubed F1 (bench/threads.py).
DEFAULT_NAMES_FLOOR = 0.1
NAMES_MIN = 3
# A thread is as tight as its reports: a newcomer must also score at least the mean score
# with which the thread's earlier reports joined it (never more than DEFAULT_TIGHT_CAP is
# asked), and its least body cosine against the last reports (member_min) must reach
# DEFAULT_COHESION x the mean member_min they joined with (never more than
# DEFAULT_COHESION_CAP). A young thread asks only the threshold, so two reports of one
# event in different words can start it; one whose reports told the event in close words
# is not entered by the same kind of event told in those words' neighbours. Chosen by
# bench/threads.py with the threshold (out of fold it lifted allsides, basil and multinews
# and cost ECB+ precision; see the README's thread figures). 0 turns either rule off.
DEFAULT_TIGHT_CAP = 0.35
DEFAULT_COHESION = 0.7
DEFAULT_COHESION_CAP = 0.2

_WORD = re.compile(r"\w+")
_NAME = re.compile(r"\b[^\W\d_][\w'-]*")
_SENTENCE_END = re.compile(r"(^|[.!?:\"\u201d\u00bb])\s*$")


def default_normalise(text: str) -> str:
    """NFKC + casefold: the same word in compatibility forms or another case is one term."""
    return unicodedata.normalize("NFKC", text).casefold()


class Doc(NamedTuple):
    """What threading needs of one stored original. `published`: datetime or POSIX seconds."""

    id: int | str
    title: str | None
    text: str | None
    published: datetime | float


class Features(NamedTuple):
    """One article's sub-vectors (term -> weight, unit length) at its arrival."""

    id: int | str
    ts: float
    vectors: dict[str, dict[str, float]]
    query: list[str]
    terms: frozenset  # counted once into the document frequencies
    rare: frozenset = frozenset()  # vector terms rare enough to index, at arrival


class Decision(NamedTuple):
    """`thread_id` (the first report's id), `score` of the joined thread (0.0 for a new
    thread: then `reasons` describes the best rejected candidate, if any), `new`, and
    `reasons`: per-field cosines, hours since the thread's last report, the shared terms
    that weigh most, and how many threads were compared."""

    thread_id: int | str
    score: float
    new: bool
    reasons: dict


@dataclass
class _Thread:
    id: int | str
    first: float
    last: float
    size: int = 0
    sums: dict[str, dict[str, float]] = field(default_factory=lambda: {f: {} for f in FIELDS})
    norms: dict[str, float] = field(default_factory=dict)
    indexed: frozenset = frozenset()
    members: list = field(default_factory=list)  # body vectors of the last reports
    rare: frozenset = frozenset()
    # what the reports that joined after the first scored: how many, the sums of their
    # scores and of their member_min (the bars of DEFAULT_TIGHT_CAP and DEFAULT_COHESION)
    joins: int = 0
    join_score: float = 0.0
    join_member: float = 0.0

    def bars(self, tight_cap: float, cohesion: float, cohesion_cap: float) -> tuple:
        """(score, member_min) a newcomer must reach besides the threshold; 0 when the
        thread has had no report join it yet."""
        if not self.joins:
            return 0.0, 0.0
        return (min(tight_cap, self.join_score / self.joins),
                min(cohesion_cap, cohesion * self.join_member / self.joins))

    def slots(self) -> dict[str, dict[str, float]]:
        """The thread's term rows by field (copies): the sub-vector sums, "m0".."m3" (the
        last reports' bodies, oldest first) and "joins" (the bars' sums, once any)."""
        out = {f: dict(self.sums[f]) for f in FIELDS}
        out.update({f"m{i}": dict(m) for i, m in enumerate(self.members)})
        if self.joins:
            out["joins"] = {"n": float(self.joins), "score": self.join_score,
                            "member_min": self.join_member}
        return out


def _timestamp(when) -> float:
    if isinstance(when, datetime):
        return when.timestamp()
    return float(when)


def _heaviest(vectors: dict[str, dict[str, float]], rare: frozenset, n: int) -> list[str]:
    """The n heaviest terms of title, body and names among the rare ones."""
    weight: Counter = Counter()
    for f in ("title", "body", "names"):
        for t, w in vectors[f].items():
            if t in rare:
                weight[t] += w
    return [t for t, _ in weight.most_common(n)]


class ThreadIndex:
    """Online threading over a sliding window. `assign(doc) -> Decision` is the whole
    protocol for a caller that feeds originals in published order; `prime(docs)` counts
    document frequencies of an archive (no threads) so that the first articles are
    weighed against a known vocabulary."""

    def __init__(self, *, window_hours: float = DEFAULT_WINDOW_HOURS,
                 threshold: float | None = None, weights: dict | None = None,
                 time_penalty: float = DEFAULT_TIME_PENALTY,
                 names_floor: float = DEFAULT_NAMES_FLOOR,
                 normalise: Callable[[str], str] = default_normalise,
                 model: dict | None = None, member_floor: float = DEFAULT_MEMBER_FLOOR,
                 tight_cap: float = DEFAULT_TIGHT_CAP, cohesion: float = DEFAULT_COHESION,
                 cohesion_cap: float = DEFAULT_COHESION_CAP):
        """`model` (feature -> coefficient, "bias"; e.g. DEFAULT_MODEL) replaces the
        hand-weighted score by a logistic one; `threshold` is then a probability
        (MODEL_THRESHOLD unless given), else a weighted sum (DEFAULT_THRESHOLD)."""
        self.window = window_hours * 3600.0
        self.model = dict(model) if model is not None else None
        if threshold is None:
            threshold = DEFAULT_THRESHOLD if self.model is None else MODEL_THRESHOLD
        self.threshold = threshold
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.time_penalty = time_penalty
        self.names_floor = names_floor
        self.member_floor = member_floor
        self.tight_cap, self.cohesion, self.cohesion_cap = tight_cap, cohesion, cohesion_cap
        self.normalise = normalise
        self.df = DocumentFrequencies()
        self.clock = float("-inf")
        self.threads: dict[int | str, _Thread] = {}  # ordered by last report, oldest first
        self.postings: dict[str, set] = {}

    # -- features ---------------------------------------------------------------------

    def _tokens(self, text: str) -> list[str]:
        return [w for w in _WORD.findall(self.normalise(text)) if len(w) > 1][:MAX_WORDS]

    def _names(self, text: str) -> list[str]:
        # Capitalised words that do not open a sentence: names of people, places, bodies.
        # Capitalisation is read on the raw text; the term is the normalised word.
        out = []
        for line in text.splitlines():
            for m in _NAME.finditer(line):
                word = m.group(0)
                if not word[0].isupper() or m.start() == 0:
                    continue
                before = line[max(0, m.start() - 4):m.start()]  # not the whole prefix
                if not _SENTENCE_END.search(before):
                    out.extend(self._tokens(word))
        return out[:MAX_WORDS]

    def analyse(self, doc: Doc) -> Features:
        """The article's sub-vectors; counts its terms into the document frequencies."""
        title, text = doc.title or "", doc.text or ""
        body = self._tokens(text)
        title_t = self._tokens(title)
        counts = {"title": Counter(title_t), "lead": Counter(body[:LEAD_WORDS]),
                  "body": Counter(body), "names": Counter(self._names(title + "\n" + text))}
        terms = frozenset(body) | frozenset(title_t)
        self.df.add(terms)
        idf = self.df.idfs(terms | counts["names"].keys())
        vectors = {f: unit(c, idf, DOC_TERMS) for f, c in counts.items()}
        warm = self.df.n >= WARMUP_DOCS
        rare = frozenset(t for v in vectors.values() for t in v
                         if not warm or idf[t] >= MIN_IDF)
        query = _heaviest(vectors, rare, QUERY_TERMS)
        return Features(doc.id, _timestamp(doc.published), vectors, query, terms, rare)

    def terms(self, doc: Doc) -> frozenset:
        """The distinct terms of title and text, as counted into the document frequencies."""
        return frozenset(self._tokens(doc.text or "")) | frozenset(self._tokens(doc.title or ""))

    def _rare(self, terms: Iterable[str]) -> frozenset:
        """The terms rare enough to look up, by today's frequencies (after a restart)."""
        warm = self.df.n >= WARMUP_DOCS
        return frozenset(t for t, v in self.df.idfs(terms).items() if not warm or v >= MIN_IDF)

    def prime(self, docs: Iterable[Doc]) -> None:
        for doc in docs:
            self.df.add(self.terms(doc))

    # -- decisions --------------------------------------------------------------------

    def assign(self, doc: Doc) -> Decision:
        return self.place(self.analyse(doc))

    def pair_features(self, feats: Features, thread: _Thread) -> dict[str, float]:
        """PAIR_FEATURES of an article against a thread (all in [0, 1])."""
        x = {f: cosine(feats.vectors[f], thread.sums[f], thread.norms.get(f, 0.0))
             for f in FIELDS}
        v, sums, norms = feats.vectors, thread.sums, thread.norms
        # a title told in another outlet's words is often in the other's lead
        x["cross"] = max(cosine(v["title"], sums["lead"], norms.get("lead", 0.0)),
                         cosine(v["lead"], sums["title"], norms.get("title", 0.0)))
        body = feats.vectors["body"]
        dots = [dot(body, m) for m in thread.members]
        x["member"] = max(dots, default=0.0)
        # A thread read back without its members (state saved before they were kept) has
        # only its centroid: the body cosine stands in.
        x["member_min"] = min(dots) if dots else x["body"]
        x["age"] = min(1.0, abs(feats.ts - thread.last) / self.window)
        x["conflict"] = float(x["names"] < self.names_floor
                              and len(feats.vectors["names"]) >= NAMES_MIN
                              and len(thread.sums["names"]) >= NAMES_MIN)
        return x

    def score(self, feats: Features, thread: _Thread) -> tuple[float, dict, dict]:
        """(score, pair features, reasons); a vetoed candidate scores just under the
        threshold (still reported as the nearest)."""
        x = self.pair_features(feats, thread)
        if self.model is not None:
            z = self.model.get("bias", 0.0) + sum(self.model.get(f, 0.0) * v
                                                  for f, v in x.items())
            total = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
        else:
            total = sum(w * x[f] for f, w in self.weights.items())
            total -= self.time_penalty * x["age"]
        hours = abs(feats.ts - thread.last) / 3600.0
        why = {f: round(x[f], 3) for f in (*FIELDS, "cross", "member", "member_min")}
        if self.model is None:
            score_bar, member_bar = thread.bars(self.tight_cap, self.cohesion,
                                                self.cohesion_cap)
            vetoes = {"below_member_floor": x["member_min"] < self.member_floor,
                      "below_thread_score": score_bar > 0 and total < score_bar,
                      "below_thread_cohesion": member_bar > 0 and x["member_min"] < member_bar}
            if x["conflict"] or any(vetoes.values()):
                why["vetoed_score"] = round(total, 4)  # what it scored before the veto
                total = min(total, self.threshold - 1e-6)
            why.update({k: True for k, v in vetoes.items() if v})
            if vetoes["below_thread_score"]:
                why["thread_score_bar"] = round(score_bar, 3)
            if vetoes["below_thread_cohesion"]:
                why["thread_member_bar"] = round(member_bar, 3)
        return total, x, {**why, "conflict": bool(x["conflict"]), "hours": round(hours, 1)}

    def candidates(self, feats: Features) -> list[_Thread]:
        hits: Counter = Counter()
        for term in feats.query:
            for tid in self.postings.get(term, ()):
                hits[tid] += 1
        return [self.threads[tid] for tid, _ in hits.most_common(MAX_CANDIDATES)]

    def join(self, feats: Features, thread_id) -> None:
        """Put the article into the thread `thread_id`, or start it (for labelled runs)."""
        self.expire(max(self.clock, feats.ts))
        thread = self.threads.get(thread_id) or _Thread(thread_id, feats.ts, feats.ts)
        self._join(thread, feats)

    def place(self, feats: Features) -> Decision:
        """Join the best active thread at or above the threshold, or start one."""
        self.expire(max(self.clock, feats.ts))
        best, best_score, best_x, best_why = None, float("-inf"), {}, {}
        cands = self.candidates(feats)
        for thread in cands:
            s, x, why = self.score(feats, thread)
            if s > best_score:
                best, best_score, best_x, best_why = thread, s, x, why
        reasons = {**best_why, "compared": len(cands)}
        if best is not None:
            reasons["shared"] = self._shared(feats, best)
        bar = self.threshold
        if self.model is None and self.df.n < WARMUP_DOCS:  # cold frequencies: a new store
            bar = max(bar, COLD_THRESHOLD)
        if best is not None and best_score >= bar:
            self._join(best, feats)
            best.joins += 1
            best.join_score += best_score
            best.join_member += best_x["member_min"]
            return Decision(best.id, round(best_score, 4), False, reasons)
        if best is not None:
            reasons["nearest"] = best.id
            reasons["nearest_score"] = round(best_score, 4)
        thread = _Thread(feats.id, feats.ts, feats.ts)
        self._join(thread, feats)
        return Decision(thread.id, 0.0, True, reasons)

    def _shared(self, feats: Features, thread: _Thread, n: int = 6) -> list[str]:
        weight: Counter = Counter()
        for f in ("title", "body", "names"):
            sums = thread.sums[f]
            for t, w in feats.vectors[f].items():
                if t in sums:
                    weight[t] += w * sums[t]
        return [t for t, _ in weight.most_common(n)]

    def _join(self, thread: _Thread, feats: Features) -> None:
        for f in FIELDS:
            sums = thread.sums[f]
            for t, w in feats.vectors[f].items():
                sums[t] = sums.get(t, 0.0) + w
            if len(sums) > CENTROID_TERMS:
                sums = dict(heapq.nlargest(CENTROID_TERMS, sums.items(), key=lambda kv: kv[1]))
                thread.sums[f] = sums
            thread.norms[f] = math.sqrt(sum(w * w for w in sums.values()))
        thread.members = [*thread.members[-(MEMBERS - 1):], feats.vectors["body"]]
        sums = thread.sums
        thread.rare = (thread.rare | feats.rare) & (sums["title"].keys() | sums["body"].keys()
                                                    | sums["names"].keys())
        thread.size += 1
        thread.first = min(thread.first, feats.ts)
        thread.last = max(thread.last, feats.ts)
        self.threads.pop(thread.id, None)  # re-inserted last: the dict stays in last-report order
        self.threads[thread.id] = thread
        self._reindex(thread)
        self.clock = max(self.clock, feats.ts)

    def _reindex(self, thread: _Thread) -> None:
        new = frozenset(_heaviest(thread.sums, thread.rare, INDEX_TERMS))
        for t in thread.indexed - new:
            self._unpost(t, thread.id)
        for t in new - thread.indexed:
            self.postings.setdefault(t, set()).add(thread.id)
        thread.indexed = new

    def _unpost(self, term: str, tid) -> None:
        ids = self.postings.get(term)
        if ids is not None:
            ids.discard(tid)
            if not ids:
                del self.postings[term]

    def expire(self, now: float) -> int:
        """Drop threads whose last report is older than the window; returns how many."""
        cutoff = now - self.window
        gone = 0
        while self.threads:
            tid, thread = next(iter(self.threads.items()))
            if thread.last >= cutoff:
                break
            # Out-of-order timestamps can leave a younger thread behind an older one; the
            # order is by last update, which is close enough for a window of days.
            del self.threads[tid]
            for t in thread.indexed:
                self._unpost(t, tid)
            gone += 1
        return gone

    # -- state as rows ----------------------------------------------------------------

    def rows(self) -> dict[str, list[tuple]]:
        nz = np.flatnonzero(self.df.counts)
        return {
            "meta": [("n_docs", self.df.n), ("clock", self.clock)],
            "threads": [(t.id, t.first, t.last, t.size) for t in self.threads.values()],
            "terms": [(t.id, f, term, w) for t in self.threads.values()
                      for f, terms in t.slots().items() for term, w in terms.items()],
            "df": [(int(b), int(self.df.counts[b])) for b in nz],
        }

    @classmethod
    def from_rows(cls, rows: dict[str, list[tuple]], **params) -> "ThreadIndex":
        index = cls(**params)
        meta = dict(rows.get("meta", []))
        index.df.n = int(meta.get("n_docs", 0))
        index.clock = float(meta.get("clock", float("-inf")))
        for bucket, count in rows.get("df", []):
            index.df.counts[bucket] = count
        for tid, first, last, size in sorted(rows.get("threads", []), key=lambda r: r[2]):
            index.threads[tid] = _Thread(tid, first, last, size)
        members: dict = {}
        joins: dict = {}
        for tid, f, term, w in rows.get("terms", []):
            if tid not in index.threads:
                continue
            if f in FIELDS:
                index.threads[tid].sums[f][term] = w
            elif f == "joins":
                joins.setdefault(tid, {})[term] = w
            else:  # "m0".."m3": the last reports' bodies, oldest first
                members.setdefault(tid, {}).setdefault(f, {})[term] = w
        for thread in index.threads.values():
            thread.norms = {f: math.sqrt(sum(w * w for w in thread.sums[f].values()))
                            for f in FIELDS}
            j = joins.get(thread.id, {})  # none in state saved before the bars were kept
            thread.joins = int(round(j.get("n", 0)))
            thread.join_score = float(j.get("score", 0.0))
            thread.join_member = float(j.get("member_min", 0.0))
            slots = members.get(thread.id, {})
            thread.members = [slots[k] for k in sorted(slots, key=lambda k: int(k[1:]))]
            thread.rare = index._rare(thread.sums["title"].keys() | thread.sums["body"].keys()
                                      | thread.sums["names"].keys())
            index._reindex(thread)
        return index

    def __len__(self) -> int:
        return len(self.threads)
