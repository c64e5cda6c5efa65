import random

import pytest
from hypothesis import given, strategies as st

from enterprise_list import credit_code as cc

PUBLISHED = ["91350100M000100Y43", "91330100799655058B", "914403001922038216"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code):
    assert cc.is_valid(code)
    assert cc.check_char(code[:17]) == code[17]


def test_weights_are_powers_of_three_mod_31():
    assert cc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code, why", [
    ("91330100799655058C", "bad check character: expected 'B', got 'C'"),
    ("9133010079965505B", "must have 18 characters, has 17"),
    ("91330100799655O58B", "character(s) 'O' not allowed (allowed: 0123456789ABCDEFGHJKLMNPQRTUWXY)"),
])
def test_problems_say_what_was_expected(code, why):
    assert cc.problem(code) == why
    assert not cc.is_valid(code)


def test_full_width_and_spaces_are_normalised():
    assert cc.normalise("９１３３０１００７９９６５５０５８ｂ ") == "91330100799655058B"
    assert cc.is_valid(" ９１３３０１００７９９６５５０５８Ｂ")


@given(st.integers(0, 10_000), st.integers(0, 17), st.integers(1, 30))
def test_any_single_substitution_is_caught(seed, pos, shift):
    code = cc.make_code(random.Random(seed), "140302")
    assert cc.is_valid(code)
    new = cc.ALPHABET[(cc.ALPHABET.index(code[pos]) + shift) % 31]
    assert not cc.is_valid(code[:pos] + new + code[pos + 1:])
