"""newswatch.names: what folding merges (names across scripts and case forms) and what it
must never merge (different words of one script)."""

from __future__ import annotations

import pytest

from newswatch.names import AliasError, alias_table, fold, fold_word, same_name, variant_key


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
