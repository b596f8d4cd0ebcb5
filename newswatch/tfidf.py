"""Sparse TF-IDF vectors (term -> weight dicts) and document frequencies counted in a fixed
array of hashed buckets, for story threads (newswatch.threads): fixed memory for any archive
(a collision only blurs the idf of two rare terms)."""

from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter
from typing import Iterable

import numpy as np

DF_BUCKETS = 1 << 20


def unit(counts: Counter, idf: dict[str, float], keep: int) -> dict[str, float]:
    """Sublinear-tf x idf weights of `counts`, its `keep` heaviest terms, unit length."""
    # sublinear tf (BM25-style saturation and idf**1.5 both lost out of fold, bench/threads.py)
    vec = {t: (1.0 + math.log(c)) * idf[t] for t, c in counts.items()}
    if len(vec) > keep:  # the light tail moves a cosine little and costs the most
        vec = dict(heapq.nlargest(keep, vec.items(), key=lambda kv: kv[1]))
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()} if norm else {}


def dot(a: dict[str, float], b: dict[str, float]) -> float:
    """The dot product of two sparse vectors (the shorter one is walked)."""
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    return sum(w * get(t, 0.0) for t, w in a.items())


def cosine(vec: dict[str, float], sums: dict[str, float], norm: float) -> float:
    """Cosine of a unit vector with a sum of unit vectors whose length is `norm`."""
    if not norm or not vec:
        return 0.0
    if len(vec) > len(sums):
        return sum(w * vec.get(t, 0.0) for t, w in sums.items()) / norm
    return sum(w * sums.get(t, 0.0) for t, w in vec.items()) / norm


class DocumentFrequencies:
    """Document counts per term in DF_BUCKETS hashed buckets: fixed memory for any archive."""

    def __init__(self, buckets: int = DF_BUCKETS):
        self.counts = np.zeros(buckets, dtype=np.int32)
        self.n = 0
        self._mask = buckets - 1

    def bucket(self, term: str) -> int:
        return zlib.crc32(term.encode("utf-8")) & self._mask

    def _buckets(self, terms: list[str]) -> np.ndarray:
        mask, crc = self._mask, zlib.crc32
        return np.fromiter((crc(t.encode("utf-8")) & mask for t in terms), np.int64, len(terms))

    def add(self, terms: Iterable[str]) -> None:
        self.n += 1
        self.counts[np.unique(self._buckets(list(terms)))] += 1

    def idf(self, term: str) -> float:
        return math.log((1 + self.n) / (1 + int(self.counts[self.bucket(term)]))) + 1.0

    def idfs(self, terms: Iterable[str]) -> dict[str, float]:
        """idf of many terms in one numpy step (a Python call per term cost the most)."""
        terms = list(terms)
        values = np.log((1 + self.n) / (1.0 + self.counts[self._buckets(terms)])) + 1.0
        return dict(zip(terms, values.tolist()))
