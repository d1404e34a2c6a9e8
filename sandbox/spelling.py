"""How agencies spell things on the wire: Persian digits, Arabic ي/ك."""

from __future__ import annotations

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_LETTERS = str.maketrans({"ی": "ي", "ک": "ك"})

ZWNJ = "\u200c"


def persian_digits(text: str) -> str:
    """ASCII digits to Persian digits (۰–۹), as the post company writes them."""
    return text.translate(_PERSIAN_DIGITS)


def arabic_letters(text: str) -> str:
    """Persian ی/ک to Arabic ي/ك, as older systems (licensing portal) store names."""
    return text.translate(_ARABIC_LETTERS)
