"""The unified social credit code (统一社会信用代码, GB 32100-2015) of a Chinese company.

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z); the last
one is a check character: weights 3^i mod 31 over the first 17, ``31 - sum mod 31`` (31 → 0).
"""

from __future__ import annotations

import re

#: The code's alphabet in value order: the index of a character is its value.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_LENGTH = 18
CREDIT_CODE_PATTERN = f"^[{'0-9A-HJ-NP-RTUW-Y'}]{{{CREDIT_CODE_LENGTH}}}$"
#: Weight of each of the first 17 characters: 3**i mod 31.
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(CREDIT_CODE_LENGTH - 1))

_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}
_WELL_FORMED = re.compile(CREDIT_CODE_PATTERN[1:-1])  # used with fullmatch (no "$" before a newline)


def credit_code_check_character(first17: str) -> str:
    """The check character for the first 17 characters of a credit code (all from the alphabet)."""
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: object) -> str | None:
    """What is wrong with a credit code, in words an ops engineer can act on; None when it is valid."""
    if not isinstance(code, str):
        return f"must be a string of {CREDIT_CODE_LENGTH} characters, got {type(code).__name__}"
    if _WELL_FORMED.fullmatch(code):  # the usual case: only the check character is left to check
        return _check_character_problem(code)
    if len(code) != CREDIT_CODE_LENGTH:
        return f"must be {CREDIT_CODE_LENGTH} characters, got {len(code)} ({code!r})"
    for position, ch in enumerate(code, start=1):
        if ch not in _VALUES:
            hint = " (use capitals)" if ch.upper() in _VALUES else " (I, O, S, V, Z are never used)"
            return f"character {ch!r} at position {position} is not allowed{hint}"
    return _check_character_problem(code)


def _check_character_problem(code: str) -> str | None:
    expected = credit_code_check_character(code[:-1])
    if code[-1] != expected:
        return f"check character is {code[-1]!r} but the first 17 characters give {expected!r} (typo?)"
    return None


def is_valid_credit_code(code: object) -> bool:
    """True when ``code`` is a well-formed credit code with the right check character."""
    return credit_code_problem(code) is None
