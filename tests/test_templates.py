"""The per-outlet template learner, on a real SQLite database."""

from __future__ import annotations

import pickle

import pytest

from newswatch.store import open_db
from newswatch.templates import TemplateModel, fingerprint, learn, prune

APPEAL = ("Our reporting is free to read because readers like you chip in. "
          "Give what you can today and keep the Harbour Ledger independent.")


def _story(i: int) -> list[str]:
    return [f"Story {i}: the council met on day {i} to discuss the budget for district number {i * 7}.",
            f"Councillor number {i} said the vote on item {i * 3} would be postponed.",
            APPEAL]


@pytest.fixture()
def db(tmp_path):
    return open_db(tmp_path / "nw.db")


def test_repeated_block_is_learned_and_removed(db):
    for i in range(10):
        learn(db, "ledger", f"https://ledger.example/{i}", _story(i))
    model = TemplateModel.load(db, "ledger")
    kept = model.filter(_story(99))
    assert APPEAL not in kept
    assert kept == _story(99)[:2]  # the article's own paragraphs survive


def test_appeal_quoted_once_is_kept(db):
    # an article quoting the appeal on one page (even twice within that page) is not template
    for i in range(10):
        learn(db, "ledger", f"https://ledger.example/{i}", _story(i)[:2])
    quote_page = ["The paper's appeal read:", APPEAL, APPEAL, "Critics called it overdone."]
    learn(db, "ledger", "https://ledger.example/quote", quote_page)
    model = TemplateModel.load(db, "ledger")
    assert model.filter(quote_page) == quote_page
    count = db.execute("SELECT pages FROM template_blocks WHERE fingerprint = ?",
                       [fingerprint(APPEAL)]).fetchone()[0]
    assert count == 1  # counted once per page, never within one


def test_learning_is_idempotent_per_url(db):
    for _ in range(5):
        learn(db, "ledger", "https://ledger.example/same", _story(1))
    model = TemplateModel.load(db, "ledger")
    assert model.filter(_story(2)) == _story(2)  # one page, however often recrawled
    assert db.execute("SELECT count(*) FROM template_pages").fetchone()[0] == 1


def test_outlets_are_separate_and_model_pickles(db):
    for i in range(6):
        learn(db, "ledger", f"https://ledger.example/{i}", _story(i))
    other = TemplateModel.load(db, "other")
    assert other.filter(_story(1)) == _story(1)
    model = pickle.loads(pickle.dumps(TemplateModel.load(db, "ledger")))
    assert APPEAL not in model.filter(_story(1))


def test_share_threshold_protects_occasional_sentences(db):
    background = "The strike began in March after talks on pay broke down."
    for i in range(60):
        pars = _story(i)[:2] + ([background] if i % 15 == 0 else [])  # 4 of 60 pages
        learn(db, "ledger", f"https://ledger.example/{i}", pars)
    model = TemplateModel.load(db, "ledger")
    assert model.filter([background]) == [background]


def test_digits_fold_and_prune(db):
    assert fingerprint("3 days left to give") == fingerprint("2 days left to give")
    assert fingerprint("Hi") is None
    learn(db, "ledger", "https://ledger.example/1", _story(1))
    assert prune(db, "9999-01-01T00:00:00+00:00", "ledger") == 3
