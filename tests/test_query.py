"""The query language: what a watch or `newswatch search` finds, what it refuses, and how
matches are highlighted.  Matching runs on real SQLite FTS5 tables throughout."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.store import FTS_TOKENIZE, open_db
from newswatch.errors import QueryError
from newswatch.query import Query, Term, compile_query, highlight, match_batch, search, tokenize
from newswatch.query.tokens import words
from newswatch.query import matched_forms

DOCS = {
    1: ("Lavrov visits Pyongyang", "Sergei Lavrov met Kim Jong-un in North Korea on Tuesday."),
    2: ("Talks in Kyiv", "President Zelénskyy said the café on the square reopened."),
    3: ("Визит", "Визит Сергея Лаврова в Пхеньян продлится два дня."),
    4: ("Монастырь", "Туристы посетили Киево-Печерскую лавру, древнюю обитель."),
    5: ("Putin and Lavrov", "Vladimir Putin and Sergei Lavrov spoke to reporters in Moscow."),
    6: ("Seoul reacts", "South Korea's government said the Korean peninsula must stay calm."),
    7: ("Αθήνα", "Ο υπουργός μίλησε στην Αθήνα για την Ελλάδα."),
    8: ("東京", "東京 会談 北朝鮮 ミサイル"),
    9: ("Kim Jong Un speech", "Kim Jong Un spoke about the economy; cafe owners were not impressed."),
}


def hits(query: str, docs: dict = DOCS) -> set[int]:
    found = match_batch([("w", compile_query(query))], [(k, t, x) for k, (t, x) in docs.items()])
    return {doc_id for _, doc_id in found}


def test_word_is_case_insensitive():
    # doc 3 is "Сергея Лаврова": a Latin word also matches the Russian case forms (issue 16)
    assert hits("LAVROV") == {1, 3, 5}
    assert hits("lavrov") == {1, 3, 5}


def test_phrase_needs_words_in_order():
    assert hits('"North Korea"') == {1}
    assert hits('"Korea North"') == set()
    assert hits("North Korea") == {1}  # implicit AND: both words anywhere


def test_hyphen_insensitive_both_ways():
    # a phrase typed with spaces finds the hyphenated spelling ...
    assert hits('"Kim Jong Un"') == {1, 9}
    # ... and a hyphenated query word finds the spelling with spaces
    assert hits("Jong-un") == {1, 9}
    assert hits('"Kim Jong-un"') == {1, 9}


def test_accents_ignored_in_query_and_text():
    assert hits("Zelenskyy") == {2}
    assert hits("Zelénskyy") == {2}
    assert hits("café") == {2, 9}
    assert hits("cafe") == {2, 9}


def test_cyrillic_prefix_matches_inflections_only():
    assert hits("Лавров*") == {3}  # "Лаврова", not "лавру"
    assert hits("лавра") == set()
    assert hits("Лавр*") == {3, 4}
    assert hits("ЛАВРОВА") == {3}


def test_greek_and_cjk_words():
    assert hits("Αθήνα") == {7}
    assert hits("αθήνα") == {7}
    assert hits("北朝鮮") == {8}
    assert hits("東京 ミサイル") == {8}


def test_not_and_and_not_exclude():
    assert hits("Lavrov NOT Putin") == {1, 3}
    assert hits("Lavrov AND NOT Putin") == {1, 3}
    assert hits("Lavrov and not Putin") == {1, 3}
    assert hits("Korea* NOT (Lavrov OR Seoul)") == set()
    assert hits("Korea* NOT Seoul") == {1}


def test_or_with_parentheses():
    assert hits('Lavrov AND ("North Korea" OR Moscow)') == {1, 5}
    assert hits('(Putin OR Zelenskyy) AND (Moscow OR café)') == {2, 5}
    assert hits("Seoul OR Athens OR Αθήνα") == {6, 7}


def test_precedence_and_binds_tighter_than_or():
    # Seoul OR (Lavrov AND Moscow), not (Seoul OR Lavrov) AND Moscow
    assert hits("Seoul OR Lavrov Moscow") == {5, 6}
    assert hits("Seoul OR Lavrov AND Moscow") == {5, 6}
    # NOT binds tighter than AND: Lavrov AND (NOT Putin) AND Korea
    assert hits("Lavrov NOT Putin Korea") == {1}


def test_lowercase_operators():
    assert hits("seoul or pyongyang") == {1, 6}
    assert hits("lavrov and moscow") == {5}


def test_prefix_on_latin_word_and_phrase():
    assert hits("Kore*") == {1, 6}
    assert hits('"Kim Jong"*') == {1, 9}


# Each document is one that FTS5's own reading of a query below would find (or miss).
SYNTAX_DOCS = {
    1: ("foo", "x y"),  # title:foo as a column filter
    2: ("Memo", "the title: foo line"),
    3: ("a b", "nothing"),  # NEAR(a b) as proximity, "a" + "b" as a phrase
    4: ("Near", "a and b"),
    5: ("x", "first"),  # ^x as "first token of a column"
    6: ("y", "then x"),
    7: ("Note", "b then a"),
    8: ("Lavrov", "text"),
    9: ("Quote", "the full text: Lavrov said Putin stood near 2 doors"),
    10: ("Col", "col1 is x"),
    11: ("ABC", "a b c"),
    12: ("Lavrov", "Putin"),  # Lavrov NEAR/2 Putin as proximity
    13: ("Memo", "Lavrov spoke"),  # text:Lavrov as a column filter
    14: ("Lavrov", "a title"),
}


@pytest.mark.parametrize("text, expected", [
    ("title:foo", {2}),  # the words "title foo" in a row, not foo in the title column
    ("NEAR(a b)", {4}),  # the words near, a and b
    ("^x", {1, 5, 6, 10}),  # the word x anywhere, not only first
    ('"a" + "b"', {3, 4, 7, 11}),  # a and b, not the phrase "a b"
    ("text:Lavrov", {9}),
    ("{title}: Lavrov", {14}),
    ("Lavrov NEAR/2 Putin", {9}),  # Lavrov, "near 2" and Putin
    ("a:b:c", {11}),
    ("- Lavrov", {8, 9, 12, 13, 14}),  # a leading - is not NOT
    ("col1 : x", {10}),
    ("x AND (y)", {1, 6}),
    ("AND(", QueryError),
])
def test_fts5_syntax_typed_by_a_user_is_just_words(text, expected):
    if expected is QueryError:
        with pytest.raises(QueryError, match="needs a term"):
            compile_query(text)
        return
    assert hits(text, SYNTAX_DOCS) == expected
    # ... and a document that quotes what the user typed is found by it.
    assert hits(text, {1: ("Quote", f"she typed {text} here")}) == {1}


def test_fts5_column_filter_is_not_applied():
    # FTS5 would read "text:Lavrov" as Lavrov in the text column (docs 1 and 5); here it
    # is the words "text" and "Lavrov" next to each other
    assert hits("text:Lavrov") == set()
    docs = {1: ("Lavrov", "nothing"), 2: ("Quote", "the full text: Lavrov said no")}
    assert hits("text:Lavrov", docs) == {2}
    # NEAR(...) is the word "near" and two more words, not FTS5's proximity operator
    assert hits("NEAR(Lavrov Putin)") == set()
    docs = {1: ("Putin", "Lavrov stood near the door")}
    assert hits("NEAR(Lavrov Putin)", docs) == {1}


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("   ", "empty"),
    ("NOT Putin", "nothing to exclude"),
    ("not Putin", "nothing to exclude"),
    ("Lavrov OR NOT Putin", "nothing to exclude"),
    ('"North Korea', "unbalanced quote"),
    ('Lavrov "', "unbalanced quote"),
    ("(Lavrov OR Putin", "unbalanced parenthesis"),
    ("Lavrov OR Putin)", "unbalanced parenthesis"),
    ("Lavrov AND", "AND at position 8 needs a term after it"),
    ("AND Lavrov", "needs a term before it"),
    ("Lavrov OR OR Putin", "needs a term"),
    ("Lavrov NOT", "NOT at position 8 needs a term after it"),
    ("*", "bare *"),
    ("Lavrov *", "bare *"),
    ('"--"', "no letters or digits"),
    ("()", "empty parentheses"),
    ("(" * 100 + "x" + ")" * 100, "nested"),
])
def test_errors_name_the_problem(text, problem):
    with pytest.raises(QueryError) as err:
        compile_query(text)
    assert problem in str(err.value)


def test_empty_term_inside_a_larger_query_is_dropped():
    assert compile_query('Lavrov "--" Putin').fts == compile_query("Lavrov Putin").fts
    assert hits("Lavrov - Putin") == {5}


def test_terms_are_positive_and_folded():
    q = compile_query('Zelénskyy OR "Kim Jong-un" OR Лавров* NOT Putin')
    assert q.terms == (
        Term(("zelenskyy",), False),
        Term(("kim", "jong", "un"), False),
        Term(("лавров",), True),
    )
    assert q.source == 'Zelénskyy OR "Kim Jong-un" OR Лавров* NOT Putin'
    with pytest.raises(AttributeError):
        q.fts = "x"  # frozen


def test_user_quotes_never_escape_the_fts5_string():
    q = compile_query('a"b" OR "c""d"')
    assert q.fts.count('"') % 2 == 0
    assert "OR" in q.fts


def _empty_fts(conn: sqlite3.Connection) -> None:
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='{FTS_TOKENIZE}')")
    conn.execute("INSERT INTO t(title, text) VALUES ('Lavrov', 'a b c \"d\" e-f')")


_CONN = sqlite3.connect(":memory:")
_empty_fts(_CONN)

_QUERYISH = st.lists(
    st.one_of(
        st.sampled_from(["AND", "or", "NOT", "not", "(", ")", '"', "*", "-", ":", "^", "+",
                         "NEAR", "NEAR(", "title:", "{", "}", ",", "\x00", " ", "  "]),
        st.text(max_size=6),
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.text(), _QUERYISH))
def test_any_text_compiles_or_raises_query_error(text):
    try:
        q = compile_query(text)
    except QueryError:
        return
    assert isinstance(q, Query)
    _CONN.execute("SELECT rowid FROM t WHERE t MATCH ?", (q.fts,)).fetchall()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_tokenize_agrees_with_unicode61(text):
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.execute("INSERT INTO t(x) VALUES (?)", (text,))
    sqlite_tokens = [r[0] for r in conn.execute("SELECT term FROM v ORDER BY offset")]
    assert [tok for _, _, tok in tokenize(text)] == sqlite_tokens
    # the fast path the PostgreSQL archive index is built with says the same
    assert words(text) == sqlite_tokens
    ascii_text = text.encode("ascii", "ignore").decode("ascii")
    assert words(ascii_text) == [tok for _, _, tok in tokenize(ascii_text)]


def test_match_batch_pairs_and_identical_queries():
    lavrov = compile_query("Lavrov")
    watches = [("a", lavrov), ("b", compile_query("Seoul")), ("c", compile_query("lavrov")),
               (("tuple", 1), compile_query("nothing-here"))]
    docs = [(k, t, x) for k, (t, x) in DOCS.items()]
    assert match_batch(watches, docs) == [("a", 1), ("a", 3), ("a", 5), ("b", 6), ("c", 1),
                                          ("c", 3), ("c", 5)]
    assert match_batch(watches, []) == []
    assert match_batch([], docs) == []


def test_match_batch_looks_at_title_and_text():
    docs = [(10, "Lavrov in the title", "nothing else"), (11, "Nothing", "Lavrov in the text"),
            (12, None, None)]
    assert match_batch([("w", compile_query("Lavrov"))], docs) == [("w", 10), ("w", 11)]


def _marked(segments):
    return [s for s, hit in segments if hit]


def test_highlight_marks_words_and_phrases():
    q = compile_query('"Kim Jong Un" Lavrov')
    segs = highlight("Sergei Lavrov met Kim Jong-un in North Korea.", q)
    assert _marked(segs) == ["Lavrov", "Kim Jong-un"]
    assert "".join(s for s, _ in segs) == "Sergei Lavrov met Kim Jong-un in North Korea."


def test_highlight_prefix_marks_whole_word_and_accents():
    q = compile_query("Лавров* OR Zelenskyy")
    segs = highlight("Визит Сергея Лаврова. Zelénskyy answered.", q)
    assert _marked(segs) == ["Лаврова", "Zelénskyy"]


def test_highlight_excludes_not_terms():
    q = compile_query("Lavrov NOT Putin")
    assert _marked(highlight("Putin and Lavrov", q)) == ["Lavrov"]


def test_highlight_cuts_around_first_match_with_ellipsis():
    text = ("filler words here " * 40 + "then Pyongyang answered.\n\nMore " + "padding text " * 40)
    segs = highlight(text, compile_query("Pyongyang"), width=100)
    assert segs[0] == ("…", False) and segs[-1] == ("…", False)
    assert _marked(segs) == ["Pyongyang"]
    body = "".join(s for s, _ in segs[1:-1])
    assert 60 <= len(body) <= 110
    assert not body.startswith(" ") and "\n" not in body
    # no match: the start of the text
    segs = highlight(text, compile_query("Seoul"), width=50)
    assert segs[0][0].startswith("filler words") and segs[-1] == ("…", False)
    assert highlight("", compile_query("Seoul")) == []


def test_search_finds_stored_articles(tmp_path):
    db = open_db(tmp_path / "nw.db")
    rows = [
        ("https://a.example/1", "a", "Lavrov visits Pyongyang", DOCS[1][1], "2026-11-20T10:00:00+00:00"),
        ("https://a.example/2", "a", "Seoul reacts", DOCS[6][1], "2026-11-21T10:00:00+00:00"),
        ("https://b.example/3", "b", "Putin and Lavrov", DOCS[5][1], None),
        ("https://b.example/4", "b", "Lavrov again", "Lavrov spoke in Korea again.", "2026-11-22T10:00:00+00:00"),
    ]
    for i, (url, outlet, title, text, published) in enumerate(rows, start=1):
        db["articles"].insert({"id": i, "url": url, "outlet": outlet, "title": title,
                               "text": text, "published": published,
                               "first_seen": "2026-11-23T00:00:00+00:00",
                               "last_seen": "2026-11-23T00:00:00+00:00"})
    db["articles"].update(4, {"duplicate_of": 1})

    found = search(db, compile_query("lavrov NOT putin"))
    assert [r["id"] for r in found] == [1]
    assert set(found[0]) >= {"id", "url", "outlet", "title", "published", "snippet"}
    assert found[0]["url"] == "https://a.example/1"
    assert "Lavrov" in found[0]["snippet"]
    assert ("Lavrov", True) in found[0]["snippet_segments"]

    assert {r["id"] for r in search(db, compile_query("Lavrov"))} == {1, 3}
    assert {r["id"] for r in search(db, compile_query("Lavrov"), include_duplicates=True)} == {1, 3, 4}
    assert [r["id"] for r in search(db, compile_query("Lavrov"), outlet="b")] == [3]
    assert [r["id"] for r in search(db, compile_query("Korea*"), since="2026-11-21T00:00:00+00:00")] == [2]
    assert len(search(db, compile_query("Lavrov OR Seoul"), limit=1)) == 1
    assert search(db, compile_query("Zelenskyy")) == []


def test_search_follows_a_corrected_text_and_bookkeeping_leaves_the_index_alone(tmp_path):
    db = open_db(tmp_path / "nw.db")
    db["articles"].insert({"id": 1, "url": "https://a.example/1", "outlet": "a",
                           "title": "Talks in Wonsan", "text": "The ministers met in Wonsan.",
                           "first_seen": "2026-11-23T00:00:00+00:00",
                           "last_seen": "2026-11-23T00:00:00+00:00"})
    # Marking an article matched or seen again changes no indexed column: the full-text
    # index is not rewritten (it used to be, for every new article and every re-fetch).
    before = db.conn.total_changes
    db.execute("UPDATE articles SET matched = 1, last_seen = ? WHERE id = 1",
               ["2026-11-24T00:00:00+00:00"])
    assert db.conn.total_changes - before == 1
    assert [r["id"] for r in search(db, compile_query("Wonsan"))] == [1]
    # A correction is re-indexed: the new wording is found, the old one no longer.
    db.execute("UPDATE articles SET text = ? WHERE id = 1", ["The ministers met in Pyongyang."])
    assert [r["id"] for r in search(db, compile_query("Pyongyang"))] == [1]
    assert [r["id"] for r in search(db, compile_query("Wonsan"))] == [1]  # still in the title
    db.execute("UPDATE articles SET title = ? WHERE id = 1", ["Talks in the capital"])
    assert search(db, compile_query("Wonsan")) == []
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


# --- names across scripts and spellings (issue 16) -------------------------------------

NAMED = {
    21: ("Визит", "Министр Лавров прилетел в Пхеньян."),
    22: ("Переговоры", "Переговоры Сергея Лаврова продлились три часа."),
    23: ("Concert", "Lavrova, a cellist from Kazan, won the competition."),
    24: ("Лавра", "Туристы посетили Киево-Печерскую лавру."),
    25: ("Talks", "Sergey Lavrov arrived on Tuesday; Zelenskyy spoke later."),
    26: ("Речь", "Речь Ким Чен Ына транслировали по телевидению."),
    27: ("Kredit", "Он не хочет брать кредит."),
    28: ("Maße", "Die Maße des Tisches stimmen nicht."),
}


def test_latin_word_matches_russian_case_forms_not_another_person():
    assert hits("Lavrov", NAMED) == {21, 22, 25}
    assert hits("Lavrova", NAMED) == {23}


def test_cyrillic_word_matches_its_transliteration_and_prefix_stays_cyrillic():
    assert hits("Лавров", NAMED) == {21, 25}
    assert hits("Лавров*", NAMED) == {21, 22}


def test_folding_never_merges_words_of_one_script():
    assert hits("брат", NAMED) == set()
    assert hits("Masse", NAMED) == set()
    assert hits("Maße", NAMED) == {28}


def test_tilde_matches_spelling_variants_also_in_phrases():
    assert hits("~Sergei", NAMED) == {22, 25}
    assert hits('"~Sergei Lavrov"', NAMED) == {22, 25}
    assert hits('"Sergei Lavrov"', NAMED) == set()
    assert hits("~Zelensky", NAMED) == {25}
    assert hits("~Lavrov", NAMED) == {21, 22, 23, 25}  # ~ also takes the feminine form
    with pytest.raises(QueryError, match="cannot be combined"):
        compile_query("~Lavr*")


def test_alias_means_any_of_its_variants():
    aliases = [{"name": "Kim Jong Un", "variants": ["Ким Чен Ын", "Kim Jong-un"]}]
    q = compile_query('@"Kim Jong Un" OR Lavrova', aliases)
    docs = [(k, t, x) for k, (t, x) in NAMED.items()]
    assert {d for _, d in match_batch([("w", q)], docs)} == {23, 26}
    # "Пхеньян" is no transliteration of Pyongyang: only an alias reaches it
    assert hits("Pyongyang", NAMED) == set()
    with pytest.raises(QueryError, match="no alias named 'Kim'"):
        compile_query("@Kim", aliases)


def test_matched_forms_and_highlight_say_which_form_matched():
    q = compile_query("Lavrov OR ~Zelensky")
    assert matched_forms(q, "Переговоры", NAMED[22][1]) == ["Лаврова"]
    assert matched_forms(q, NAMED[25][0], NAMED[25][1]) == ["Lavrov", "Zelenskyy"]
    segs = highlight(NAMED[22][1], q)
    assert [s for s, hit in segs if hit] == ["Лаврова"]


def test_plain_expression_stays_plain_and_archive_search_folds(tmp_path):
    # `fts` is still the plain index's expression (the web view's search reads it) ...
    assert compile_query("~Sergei").fts == compile_query("Sergei").fts
    # ... while archive search runs the folded one on the store's folded index
    db = open_db(tmp_path / "nw.db")
    for k, (title, text) in NAMED.items():
        db["articles"].insert({"id": k, "url": f"https://a.example/{k}", "outlet": "a",
                               "title": title, "text": text,
                               "first_seen": "2026-11-23T00:00:00+00:00",
                               "last_seen": "2026-11-23T00:00:00+00:00"})
    found = search(db, compile_query("~Sergei"))
    assert {r["id"] for r in found} == {22, 25}
    assert [s for r in found if r["id"] == 22 for s, hit in r["snippet_segments"] if hit] == ["Сергея"]


def test_tilde_phrase_needs_its_words_adjacent_whatever_else_the_batch_looks_for():
    docs = [(1, "", "Sergey Shoigu met Lavrov."), (2, "", "Serguei Lavrov met Shoigu."),
            (3, "", "Nothing about them.")]
    watches = [("phrase", compile_query('"~Sergei Lavrov"')), ("shoigu", compile_query("~Shoigu")),
               ("plain", compile_query("~Sergei Lavrov"))]
    assert match_batch(watches, docs) == [("phrase", 2), ("shoigu", 1), ("shoigu", 2),
                                          ("plain", 1), ("plain", 2)]


def test_lower_case_common_noun_is_not_the_name():
    docs = {1: ("Путина", "Рыбаки ждали, когда начнётся путина."),
            2: ("Визит", "Пресс-секретарь Путина ответил. Добавьте лавровый лист.")}
    # the title "Путина" is capitalised only as a headline's first word, and nothing else in
    # the article is a capitalised Путин: the fishing season (newswatch.query.batch.name_flag)
    assert hits("Putin", docs) == {2}
    assert hits("Putin", {1: ("", docs[1][1])}) == set()
    assert hits("Lavrov", docs) == set()
    q = compile_query("Putin")
    assert matched_forms(q, docs[1][0], docs[1][1]) == []
    assert matched_forms(q, docs[2][0], docs[2][1]) == ["Путина"]
