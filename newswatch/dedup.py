"""Content identity: exact hash of the normalised text, and near-duplicates across URLs and
outlets (the same wire story with another headline, trimmed paragraphs, an added intro,
a few reworded sentences, another outlet's boilerplate).

Near-duplicates: each text of at least MIN_WORDS words becomes a set of word 5-shingles of
its normalised text; a datasketch MinHash (NUM_PERM permutations, fixed seed and scheme, so
signatures are comparable across runs and processes) is cut into BANDS bands of ROWS rows;
each band's 8-byte hash is a bucket in `lsh_bands(band, bucket, article_id, added)`. A new
text's candidates are the articles sharing at least one bucket, added within the window.
BANDS x ROWS = 24 x 3: the chance that a pair becomes a candidate is 0.96 at Jaccard 0.5,
0.79 at 0.4, 0.48 at 0.3, and about 3e-6 for unrelated texts, so a trimmed copy (whose
Jaccard falls as its edits grow) is still found, at the price of reading a few more
candidates. A candidate is confirmed on the exact shingle sets (read from `articles`):
Jaccard >= JACCARD or containment (shared shingles over the smaller set) >= CONTAINMENT.
Different stories on one topic share names and places but few 5-word runs, so they stay
apart.

Texts shorter than MIN_WORDS are compared by exact hash only: a few shared sentences would
make two short items look alike. The bucket is stored as an 8-byte BLOB (half the size of
hex text) and `added` as the day (YYYY-MM-DD): the window is counted in days, and a full
timestamp on each of 24 rows would double the table.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

from . import clock

SHINGLE = 5
NUM_PERM = 72
BANDS, ROWS = 24, 3
SEED = 20261124
MIN_WORDS = 60
JACCARD = 0.5
CONTAINMENT = 0.6
MAX_WORDS = 20_000  # longer texts are sketched on their first MAX_WORDS words
MAX_CANDIDATES = 50  # confirmed in id order (oldest first); the rest are not read
DEFAULT_WINDOW_DAYS = 30

_WORD = re.compile(r"\w+")
_M32 = np.uint64(0xFFFFFFFF)


def normalise_text(text: str | None) -> str:
    """Case-folded words of `text` joined by single spaces: whitespace, punctuation and
    Unicode compatibility forms (NFKC) make no difference."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(_WORD.findall(text))


def content_hash(text: str | None) -> str:
    """SHA-1 (hex) of the normalised text: the exact content identity, stable across runs."""
    return _digest(normalise_text(text))


def _digest(norm: str) -> str:
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def shingles(words: list[str]) -> np.ndarray:
    """Sorted unique 32-bit hashes of the word 5-shingles (the whole text if shorter)."""
    words = words[:MAX_WORDS]
    if not words:
        return np.zeros(0, dtype=np.uint64)
    ids = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64,
                      count=len(words))
    k = min(SHINGLE, len(ids))
    n = len(ids) - k + 1
    acc = np.zeros(n, dtype=np.uint64)
    for i in range(k):  # polynomial hash of k word ids, mod 2^32 (vectorised)
        acc = ((acc * np.uint64(1000003)) ^ ids[i:i + n]) & _M32
    return np.unique(acc)


_TEMPLATE = []  # the seeded MinHash, built on first use


def _identity(value):
    return value


def _template():
    # datasketch imports scipy (about 0.5 s): only passes that store an article pay it.
    if not _TEMPLATE:
        from datasketch import MinHash

        _TEMPLATE.append(MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32",
                                 hashfunc=_identity))
    return _TEMPLATE[0]


def signature(shingle_hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (NUM_PERM values) of a shingle-hash set."""
    m = _template().copy()
    m.update_batch(shingle_hashes.tolist())
    return m.hashvalues


def buckets(sig: np.ndarray) -> list[bytes]:
    """One 8-byte bucket per band of the signature."""
    sig = np.ascontiguousarray(sig, dtype=np.uint32)
    return [hashlib.blake2b(sig[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8).digest()
            for b in range(BANDS)]


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Jaccard, containment in the smaller set) of two sorted unique shingle arrays."""
    if not len(a) or not len(b):
        return 0.0, 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common), common / min(len(a), len(b))


def is_near_duplicate(text_a: str, text_b: str) -> bool:
    """The confirmation rule on two texts (both at least MIN_WORDS words)."""
    wa, wb = normalise_text(text_a).split(), normalise_text(text_b).split()
    if len(wa) < MIN_WORDS or len(wb) < MIN_WORDS:
        return " ".join(wa) == " ".join(wb) and bool(wa)
    jac, cont = similarity(shingles(wa), shingles(wb))
    return jac >= JACCARD or cont >= CONTAINMENT


class Sketch(NamedTuple):
    """What identity needs of one text, computed once (in an extraction worker, so that the
    crawl's single thread only looks it up): the exact hash, and for texts of at least
    MIN_WORDS words the shingle set and the LSH buckets."""

    content_hash: str
    shingles: np.ndarray | None
    buckets: list[bytes] | None


def sketch(text: str | None) -> Sketch:
    norm = normalise_text(text)
    words = norm.split()
    if len(words) < MIN_WORDS:
        return Sketch(_digest(norm), None, None)
    sh = shingles(words)
    return Sketch(_digest(norm), sh, buckets(signature(sh)))


_EMPTY_HASH = _digest("")


def _day(when) -> str:
    if isinstance(when, datetime):
        return clock.to_iso(when)[:10]
    return str(when)[:10]


class _Batch:
    """A batch's identity read (url -> what `identity_probe` answered at its start) and
    what the batch stored since: urls, content hashes (first id each), originals' bands."""

    def __init__(self, probes: dict, sketches: dict):
        self.probes = probes
        self.sketches = sketches  # url -> Sketch, computed once
        self.urls: dict[str, dict] = {}
        self.hashes: dict[str, int] = {}
        self.bands: dict[tuple[int, bytes], list[int]] = {}


class DuplicateFinder:
    """Near-duplicate index over the `articles` of the last `window_days` days.

    `find(text)` -> id of the first-seen original this text duplicates, or None;
    `add(article_id, text)` records an original's bands (inside the caller's transaction).
    """

    def __init__(self, store, window_days: int = DEFAULT_WINDOW_DAYS):
        self.store = store
        self.window_days = window_days
        self._last: tuple[str, Sketch] | None = None
        self._batch: _Batch | None = None

    def _sketch(self, text: str, given: Sketch | None) -> Sketch:
        if given is not None:
            return given
        if self._last is not None and self._last[0] is text:
            return self._last[1]  # find() then add() of the same text: sketch once
        result = sketch(text)
        self._last = (text, result)
        return result

    def _cutoff(self) -> str:
        return _day(clock.now() - timedelta(days=self.window_days))

    def _root(self, article_id: int) -> int:
        """Follow duplicate_of to the first-seen original (bounded against cycles)."""
        seen = {article_id}
        current = article_id
        for _ in range(100):
            original = self.store.duplicate_of(current)
            if original is None or original in seen:
                return current
            current = original
            seen.add(current)
        return current

    # -- public ---------------------------------------------------------------------

    def find(self, text: str, given: Sketch | None = None) -> int | None:
        """`given`: the text's sketch when the caller has it (see `sketch`)."""
        digest, sh, bks = self._sketch(text, given)
        if digest == _EMPTY_HASH:
            return None  # no words, no identity (an extraction that found nothing)
        found = self.store.first_with_hash(digest, self._cutoff_iso())
        ids = (self.store.band_candidates(bks, self._cutoff())
               if found is None and bks is not None else None)
        return self._original(found, sh, ids)

    def begin_batch(self, pages: list[tuple[str, str, Sketch | None]]) -> None:
        """Read what the identity of a batch's new pages (url, text, sketch) depends on, for
        all of them at once (`store.identity_probes`: one round trip on a server). Until
        `end_batch`, `probe` answers from that read plus what the batch stored since
        (`stored`, `add`), exactly as the store would: the batch's own rows are written
        without waiting for them. Caller holds the batch's transaction and identity lock,
        so no other writer's rows can appear in between."""
        asks, sketches = [], {}
        for url, text, given in pages:
            sketches[url] = sk = given if given is not None else sketch(text)
            empty = sk.content_hash == _EMPTY_HASH
            asks.append((url, None if empty else sk.content_hash, None if empty else sk.buckets))
        answers = self.store.identity_probes(asks, self._cutoff_iso(), self._cutoff())
        self._batch = _Batch({a[0]: r for a, r in zip(asks, answers)}, sketches)

    def end_batch(self) -> None:
        self._batch = None

    def stored(self, url: str, article_id: int, text: str, given: Sketch | None = None) -> None:
        """A page of the batch was stored as a new article."""
        if self._batch is not None:
            digest = self._sketch(text, given)[0]
            self._batch.urls.setdefault(url, {"id": article_id, "content_hash": digest})
            self._batch.hashes.setdefault(digest, article_id)

    def corrected(self) -> None:
        """A page of the batch corrected a stored article: its new text may be what a
        later page copies, and the batch's read does not know it. The rest of the batch
        asks the store page by page."""
        if self._batch is not None:
            self._batch.probes.clear()

    def probe(self, url: str, text: str, given: Sketch | None = None,
              ) -> tuple[dict | None, int | None]:
        """(the article stored under `url`, or None; else the original `text` duplicates,
        or None): `find` with the URL's lookup, read in one go (`store.identity_probe`)."""
        batch = self._batch
        if given is None and batch is not None:
            given = batch.sketches.get(url)
        digest, sh, bks = self._sketch(text, given)
        empty = digest == _EMPTY_HASH  # no words, no identity
        if batch is not None and url in batch.probes:
            known, found, ids = batch.probes[url]
            known = known or batch.urls.get(url)
            if not empty:
                found = found if found is not None else batch.hashes.get(digest)
                if bks is not None:  # the batch's own originals sharing a band
                    ids = set(ids).union(*(batch.bands.get(b, ()) for b in enumerate(bks)))
        else:
            known, found, ids = self.store.identity_probe(
                url, None if empty else digest, self._cutoff_iso(), None if empty else bks,
                self._cutoff())
        if known is not None or empty:
            return known, None
        return None, self._original(found, sh, ids if bks is not None else None)

    def _cutoff_iso(self) -> str:
        return clock.to_iso(clock.now() - timedelta(days=self.window_days))

    def _original(self, found: int | None, sh, ids) -> int | None:
        """The first-seen original of an exact copy of `found`, else of the closest band
        candidate among `ids` (None: the text has no bands)."""
        if found is not None:
            return self._root(found)
        return self._confirm(sh, ids) if ids is not None else None

    def _confirm(self, sh, ids) -> int | None:
        """The first-seen original among band candidates `ids` close enough to shingles `sh`."""
        originals: list[int] = []
        for article_id in sorted(ids)[:MAX_CANDIDATES]:
            text = self.store.article_text(article_id)
            if not text:
                continue
            other = normalise_text(text).split()
            if len(other) < MIN_WORDS:
                continue
            jac, cont = similarity(sh, shingles(other))
            if jac >= JACCARD or cont >= CONTAINMENT:
                originals.append(self._root(article_id))
        return min(originals) if originals else None

    def add(self, article_id: int, text: str, given: Sketch | None = None) -> None:
        _digest, _sh, bks = self._sketch(text, given)
        if bks is None:
            return
        self.store.add_bands(article_id, bks, _day(clock.now()))
        if self._batch is not None:
            for key in enumerate(bks):
                self._batch.bands.setdefault(key, []).append(article_id)

    def prune(self, older_than=None) -> int:
        return prune(self.store, older_than if older_than is not None else
                     clock.now() - timedelta(days=self.window_days))


def prune(store, older_than) -> int:
    """Delete bands added before `older_than` (datetime or ISO text; day granularity).
    Returns the number of rows removed."""
    return store.prune_bands(_day(older_than))
