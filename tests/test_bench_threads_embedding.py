"""bench/threads_embedding.py: the embedding terms really enter the threads' score, the
pair-separation figure is a ROC AUC, and without the library or a model folder the bench
says so in one line (CI has no model: the measurement itself runs by hand)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import threads_embedding as bench  # noqa: E402

from newswatch.threads import DEFAULT_WEIGHTS, Doc  # noqa: E402

DOCS = [
    Doc(1, "Warehouse fire closes the Valmora harbour road",
        "A fire in a grain warehouse on the Valmora harbour road burned through the night. "
        "Firefighters kept the flames from the fuel depot, and the harbour road stays closed.",
        0.0),
    Doc(2, "Harbour road in Valmora shut after grain warehouse blaze",
        "The harbour road at Valmora is shut after a night-long blaze in a grain warehouse. "
        "Crews held the fire back from the fuel depot beside it.",
        3600.0),
]


def _score(embeddings: dict, weights: dict) -> float:
    """The second report's score against the first one's thread."""
    index = bench.EmbeddingIndex(embeddings=embeddings, weights=weights, tight_cap=0.0,
                                 cohesion=0.0)
    first = index.place(index.analyse(DOCS[0]))
    return index.score(index.analyse(DOCS[1]), index.threads[first.thread_id])[0]


def test_the_embedding_terms_add_their_weighted_cosines_to_the_score():
    same = {1: np.array([1.0, 0.0]), 2: np.array([1.0, 0.0])}
    apart = {1: np.array([1.0, 0.0]), 2: np.array([0.0, 1.0])}
    base = _score(same, DEFAULT_WEIGHTS)
    assert base > 0.2  # the two reports share their words: a real score to add to
    with_terms = {**DEFAULT_WEIGHTS, "emb": 0.5, "emb_min": 0.25}
    assert _score(same, with_terms) == pytest.approx(base + 0.75)
    assert _score(apart, with_terms) == pytest.approx(base)


def test_separation_is_the_chance_a_same_event_pair_outscores_a_same_topic_pair():
    assert bench.auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert bench.auc([0.1], [0.9]) == 0.0
    assert bench.auc([0.5, 0.9], [0.7]) == 0.5


def test_without_sentence_transformers_the_bench_is_skipped(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    assert bench.main(["--model", str(ROOT)]) == 0
    assert capsys.readouterr().out.startswith("skipped: sentence-transformers is not installed")


def test_without_a_model_folder_the_bench_is_skipped_or_refuses(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sentence_transformers",
                        types.ModuleType("sentence_transformers"))
    monkeypatch.delenv("NEWSWATCH_EMBED_MODEL", raising=False)
    assert bench.main(["--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("skipped: no model folder")
    assert bench.main(["--model", str(tmp_path / "nowhere"), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --model ") and "never fetched" in err
