"""Unified social credit code (统一社会信用代码) of GB 32100-2015.

An 18-character code: registration authority (1), organisation type (1),
administrative division (6), organisation code (9, with its own GB 11714 check
character) and the check character (1). The check character is computed over the
first 17 characters with the weights ``3**(i-1) mod 31`` on the 31-character
alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V).

References
----------
GB 32100-2015 法人和其他组织统一社会信用代码编码规则; GB 11714-1997 组织机构代码.

Examples
--------
>>> is_valid("91350100M000100Y43")
True
>>> check_char("91330100799655058")
'B'
"""
from __future__ import annotations

import random
import unicodedata
from airwarn.core.errors import InputError

#: The code's alphabet, in value order 0–30.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
#: Weights of positions 1–17: 3**(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
#: GB 11714 weights of the organisation code's first 8 characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalise(code: object) -> str:
    """Return the code as text: NFKC (full-width → ASCII), spaces removed, upper case."""
    if code is None:
        return ""
    text = unicodedata.normalize("NFKC", str(code))
    return "".join(text.split()).upper()


def check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters.

    Raises
    ------
    ValueError
        If ``first17`` is not 17 characters of the code's alphabet.
    """
    if len(first17) != 17:
        raise InputError(f"credit code: need the first 17 characters, got {len(first17)} in {first17!r}")
    bad = [c for c in first17 if c not in _VALUE]
    if bad:
        raise InputError(f"credit code {first17!r}: character(s) {bad} not in the alphabet {ALPHABET}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or ``None`` if it is.

    The message says what was expected and what came, e.g.
    ``"bad check character: expected 'B', got 'C'"``.
    """
    if len(code) != 18:
        return f"must have 18 characters, has {len(code)}"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"character(s) {''.join(bad)!r} not allowed (allowed: {ALPHABET})"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"bad check character: expected {expected!r}, got {code[17]!r}"
    return None


def is_valid(code: object) -> bool:
    """Whether ``code`` (after :func:`normalise`) is a valid 18-character credit code."""
    return problem(normalise(code)) is None


def _org_check(first8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def make_code(rng: random.Random, division: str = "140300", authority: str = "9",
              org_type: str = "1") -> str:
    """A random, valid credit code (for synthetic samples only).

    Parameters
    ----------
    rng : random.Random
        Seeded generator.
    division : str
        Six-digit administrative division code (Yangquan 140300; 城区 140302 …).
    authority, org_type : str
        Registration authority (9 = market regulation) and type (1 = company).
    """
    if len(division) != 6 or not division.isdigit():
        raise InputError(f"division must be six digits, got {division!r}")
    org8 = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = authority + org_type + division + org8 + _org_check(org8)
    return first17 + check_char(first17)
