"""newswatch.names: what folding merges (names across scripts and case forms) and what it
must never merge (different words of one script)."""

from __future__ import annotations

import pytest

from newswatch.names import AliasError, alias_table, fold, fold_word, same_name, variant_key
from newswatch.query import compile_query, match_batch, matched_forms
from newswatch.query.archive import archive_columns


@pytest.mark.parametrize("form", ["лавров", "лаврова", "лаврову", "лавровым", "лаврове"])
def test_russian_case_forms_fold_to_the_latin_name(form):
    assert fold_word(form) == "lavrov"


def test_latin_feminine_name_stays_apart():
    assert fold_word("lavrova") == "lavrova" != fold_word("лавров")


@pytest.mark.parametrize("form", ["зеленский", "зеленского", "зеленскому", "зеленський",
                                  "зеленського"])
def test_adjectival_surnames_fold_to_the_nominative(form):
    assert fold_word(form) == "zelenskiy"


def test_feminine_adjectival_surname_is_another_name():
    assert fold_word("зеленская") == "zelenskaya"


@pytest.mark.parametrize("a, b", [("masse", "maße"), ("strasse", "straße"), ("cafe", "café")])
def test_latin_words_are_left_as_the_index_has_them(a, b):
    # Latin tokens are never re-folded: ß is not ss (Masse/Maße are different words)
    assert fold_word(b) == b
    assert fold_word(a) == a


def test_other_scripts_are_transliterated():
    assert fold_word("αθήνα") == "athina"
    assert fold("Сергея Лаврова") == "serge lavrov"


def test_variant_keys_join_spellings():
    assert same_name("Sergei", "Serguei")
    assert same_name("Sergei", "Сергея")
    assert same_name("Zelensky", "Зеленского")
    assert same_name("Zelenskyy", "Zelenskiy")
    assert same_name("Vladimir", "Volodymyr")
    assert not same_name("Lavrov", "Laurel")
    assert not same_name("Sergei Lavrov", "Sergei")
    assert variant_key("lavrov") == variant_key("lavrova")  # the documented trade of ~


def test_alias_table_from_config_entries():
    table = alias_table([{"name": "Kim Jong Un", "variants": ["Ким Чен Ын", "Kim Jong-un"]}])
    assert table == {"kim jong un": ("Kim Jong Un", "Ким Чен Ын", "Kim Jong-un")}
    assert alias_table({"Pyongyang": ["Пхеньян"]}) == {"pyongyang": ("Pyongyang", "Пхеньян")}


@pytest.mark.parametrize("entries, problem", [
    ([{"name": "", "variants": []}], "needs a name"),
    ([{"name": "X", "variants": "Икс"}], "must be a list"),
    ([{"name": "X"}, {"name": "x"}], "defined twice"),
])
def test_alias_table_rejects_bad_entries(entries, problem):
    with pytest.raises(AliasError, match=problem):
        alias_table(entries)


def test_only_a_capitalised_cyrillic_word_loses_its_case_ending():
    # "путина" (a fishing season) is a common noun; "Путина" is Putin's genitive
    assert fold_word("путина", name=False) == "putina"
    assert fold_word("путина", name=True) == "putin"


@pytest.mark.parametrize("word, folded", [("лавровый", "lavrovyy"), ("лаврового", "lavrovogo"),
                                          ("лавровой", "lavrova"), ("лавровым", "lavrov")])
def test_surname_declines_as_a_noun_not_as_an_adjective(word, folded):
    # лавровый (of laurel) is another word; Лавровой is a case form of Lavrova, not Lavrov
    assert fold_word(word) == folded


def test_german_w_romanisation_is_a_variant():
    assert same_name("Lavrov", "Lawrow")
    assert same_name("Vladimir", "Wladimir")


# --- names in use: [[aliases]] in the config, and which form matched ---------------------

import email  # noqa: E402
import email.policy  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from newswatch import clock, mail  # noqa: E402
from newswatch.cli.main import cli  # noqa: E402
from newswatch.config import load_config  # noqa: E402
from newswatch.errors import ConfigError, report  # noqa: E402
from newswatch.store import open_db  # noqa: E402
from smtp import write_config  # noqa: E402

ALIASES = """
[[aliases]]
name = "Kim Jong Un"
variants = ["Ким Чен Ын", "Kim Jong-un"]
"""
NAME_WATCHES = """
[[watches]]
name = "Kim"
query = '@"kim jong-un"'

[[watches]]
name = "Lavrov"
query = 'Lavrov'
"""


def _names_config(tmp_path):
    config = write_config(tmp_path, watches=NAME_WATCHES, extra=ALIASES)
    db = open_db(config.database)
    now = clock.now_iso()
    for n, (title, text) in enumerate([
            ("Речь", "Речь Ким Чен Ына транслировали по телевидению."),
            ("Визит", "Переговоры Сергея Лаврова продлились три часа."),
            ("Concert", "Lavrova, a cellist, won the competition.")], start=1):
        db["articles"].insert({"url": f"https://alpha.example/news/{n}", "outlet": "alpha",
                               "title": title, "text": text, "published": now[:10],
                               "first_seen": now, "last_seen": now, "matched": 1})
    db.close()
    return config


def _invoke(config, *args):
    result = CliRunner().invoke(cli, ["--config", str(config.path), *args],
                                prog_name="newswatch", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_config_aliases_reach_watches_search_and_watch_test(tmp_path):
    config = _names_config(tmp_path)
    assert config.aliases == (("Kim Jong Un", ("Ким Чен Ын", "Kim Jong-un")),)
    kim = next(w for w in config.watches if w.name == "Kim")
    assert {f for f in kim.compiled.forms} and "kim" in kim.compiled.folded
    out = _invoke(config, "watch", "test", '@"Kim Jong Un"')
    assert "https://alpha.example/news/1" in out and "matched as: Ким Чен Ына" in out
    assert out.splitlines()[-1] == "1 stored article would match"
    out = _invoke(config, "watch", "test", "Lavrov")
    assert "matched as: Лаврова" in out and "news/3" not in out  # Lavrova: another person
    out = _invoke(config, "search", '@"Kim Jong Un" OR Lavrov')
    assert out.splitlines()[-1] == "2 results"


def test_explain_says_which_form_matched(tmp_path):
    from newswatch.explain import explain

    config = _names_config(tmp_path)
    db = open_db(config.database)
    try:
        lines = explain(db, config, "https://alpha.example/news/2")
    finally:
        db.close()
    at = next(i for i, x in enumerate(lines) if x.startswith("watch 'Lavrov': match"))
    assert lines[at + 1] == "  matched as: Лаврова"
    assert "watch 'Kim': no match" in lines


def test_alert_email_shows_the_form_the_query_does_not_spell(tmp_path):
    config = _names_config(tmp_path)
    watch = next(w for w in config.watches if w.name == "Lavrov")
    stories = [mail.Story(url="https://alpha.example/news/2", title="Визит", outlet="Alpha",
                          text="Переговоры Сергея Лаврова продлились три часа."),
               mail.Story(url="https://alpha.example/news/4", title="Lavrov speaks",
                          outlet="Alpha", text="Lavrov spoke on Monday.")]
    msg = mail.render_alert(watch, stories, config=config,
                            message_id=mail.make_message_id(config.mail.from_addr))
    parsed = email.message_from_bytes(mail.message_bytes(msg), policy=email.policy.default)
    for part in ("html", "plain"):
        body = parsed.get_body((part,)).get_content()
        assert body.count("Matched as: Лаврова") == 1, part  # the Latin story: as typed
        assert "Matched as: Lavrov" not in body


@pytest.mark.parametrize("toml, line, problem", [
    ('[[aliases]]\nname = "Kim"\n[[aliases]]\nname = "kim"\n', 4, "alias 'kim' is defined twice"),
    ('[[aliases]]\nname = "Kim"\nvariants = "Ким"\n', 3, "'variants' must be an array of strings"),
    ('[[aliases]]\nname = "--"\n', 2, "an alias needs a name with letters or digits"),
    ('[[aliases]]\nvariants = ["Ким"]\n', 1, "missing required key 'name'"),
    ('[[aliases]]\nname = "Kim"\nspelling = ["x"]\n', 3, "unknown key 'spelling'"),
])
def test_bad_aliases_are_config_errors_with_their_line(tmp_path, toml, line, problem):
    path = tmp_path / "newswatch.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message, code = report(err.value)
    assert code == 2 and message.startswith(f"config error: {path}:{line}: "), message
    assert problem in message


def test_a_watch_naming_an_unknown_alias_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"watch 'Kim': bad query: no alias named 'Kim Il"):
        write_config(tmp_path, watches='[[watches]]\nname = "Kim"\nquery = \'@"Kim Il Sung"\'\n',
                     extra=ALIASES)


# --- a capital that only opens a sentence says nothing about a name -----------------------

def _hits(query: str, title: str, text: str = "") -> bool:
    return bool(match_batch([("w", compile_query(query))], [(1, title, text)]))


@pytest.mark.parametrize("title, text", [
    ("", "Путина на лугу была вся в росе."),  # the fishing season, opening a sentence
    ("Путина началась", "Рыбаки вышли в море затемно."),  # ... or a headline
    ("", "Лавра открыта весь год. Лавра стоит на холме."),  # the monastery, never mid-sentence
])
def test_sentence_initial_common_noun_is_not_the_surname(title, text):
    assert not _hits("Putin", title, text)
    assert not _hits("Lavrov", title, text)


@pytest.mark.parametrize("title, text", [
    ("Путина поздравили с юбилеем", "Поздравления Путину прислали главы государств."),
    ("", "Сергея Лаврова встретили в аэропорту."),  # a first name and surname
    ("", "Сказал он. В. В. Путина ждали к обеду."),  # an initial's full stop
    ("", "Министр прилетел утром. Лаврова встретил посол, и Лавров уехал в отель."),
])
def test_sentence_initial_name_with_evidence_is_still_the_name(title, text):
    query = "Lavrov" if "Лавр" in text else "Putin"
    assert _hits(query, title, text)
    assert matched_forms(compile_query(query), title, text)


def test_sentence_initial_adjectival_surname_keeps_its_nominative():
    # an adjective's case forms are one word, so no capital is needed to fold them together
    assert _hits("Zelenskiy", "", "Зеленському вручили нагороду.")
    assert _hits("Peskov", "", "Песков отказался от комментариев.")


def test_archive_columns_fold_like_the_batch():
    title_f, text_f, _, _ = archive_columns("Путина началась", "Поздравили Путина.")
    assert title_f.split()[0] == "putin"  # the text's mid-sentence Путина tells the title's
    assert archive_columns("Путина началась", "Рыбаки вышли.")[0].split()[0] == "putina"


# --- ~ variants are names: a word written in lower case is a common word --------------------

@pytest.mark.parametrize("query, text", [
    ("~Dmitry", "The demeter statue stood in the garden."),
    ("~Marin", "The marine biologist returned from the reef."),
    ("~Rosa", "She planted a rose by the gate."),
])
def test_tilde_variant_never_reaches_a_lower_case_word(query, text):
    assert not _hits(query, "", text)
    assert not _hits(f'"{query} and"', "", text.replace(".", " and more."))


@pytest.mark.parametrize("query, text", [
    ("~Dmitry", "Dmitri Peskov declined to comment."),
    ("~Dmitry", "a post by dmitry, unsigned"),  # the spelling typed, in lower case
    ("~Rosa", "Rose Kennedy arrived."),  # capitalised: a name to ~ (its documented trade)
    ('"~Lavrov said"', "Lavrow said nothing."),  # plain words in a ~ phrase: any case
    ('"~Lavrov Said"', "Lavrow said nothing."),
    ('"~Sergei Lavrov"', "sergei lavrov, in lower case"),
    ('"~Sergei Lavrov"', "Визит Сергея Лаврова завершился."),
])
def test_tilde_variants_of_names_still_match(query, text):
    q = compile_query(query)
    assert _hits(query, "", text)
    assert matched_forms(q, "", text)


def test_tilde_highlight_follows_the_case_guard():
    q = compile_query("~Dmitry")
    assert matched_forms(q, "", "demeter and Demeter and Dmitri") == ["Demeter", "Dmitri"]
