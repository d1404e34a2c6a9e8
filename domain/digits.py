"""Digits and letters as Iranians actually type them.

Citizens type on Persian keyboards (۰–۹), some Arabic keyboard layouts and older systems emit
Arabic-Indic digits (٠–٩), CJK input methods and some phone keyboards emit full-width digits
(０–９), and agencies mix Arabic ي/ك with Persian ی/ک in the same name. Every number a user types
goes through `to_ascii_digits` and `strip_invisible_marks` before it is validated, and every name
compared across agencies goes through `name_key`, so one citizen is not two because of a keyboard.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "name_key",
    "normalise_persian_text",
    "strip_invisible_marks",
    "to_ascii_digits",
    "to_persian_digits",
]

_ASCII_DIGITS = "0123456789"
_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_FULL_WIDTH_DIGITS = "０１２３４５６７８９"

_TO_ASCII = str.maketrans(
    _PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS + _FULL_WIDTH_DIGITS, _ASCII_DIGITS * 3
)
_TO_PERSIAN = str.maketrans(
    _ASCII_DIGITS + _ARABIC_INDIC_DIGITS + _FULL_WIDTH_DIGITS, _PERSIAN_DIGITS * 3
)

# Invisible marks that ride along when a number is copied from a phone, a chat or a web page:
# DESIGN §5's list (ZWNJ to RLM U+200C–U+200F, the bidi embeddings and overrides U+202A–U+202E,
# the bidi isolates U+2066–U+2069) plus the zero-width space U+200B, the word joiner U+2060, the
# byte-order mark U+FEFF and the Arabic letter mark U+061C, which the same sources insert.
_INVISIBLE_MARKS = dict.fromkeys(
    [0x061C, *range(0x200B, 0x2010), *range(0x202A, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF]
)

# Arabic code points that render (almost) like their Persian counterparts but compare unequal.
_TO_PERSIAN_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # ARABIC LETTER YEH -> ARABIC LETTER FARSI YEH
        "\u0649": "\u06cc",  # ARABIC LETTER ALEF MAKSURA -> ARABIC LETTER FARSI YEH
        "\u0643": "\u06a9",  # ARABIC LETTER KAF -> ARABIC LETTER KEHEH
    }
)

_WHITESPACE_RUN = re.compile(r"\s+")

# Tatweel (kashida) only stretches a glyph for looks; "محمـــد" is the same name as "محمد".
_TATWEEL = "\u0640"


def to_ascii_digits(text: str) -> str:
    """Turn Persian, Arabic-Indic and full-width digits into ASCII so one parser serves every
    keyboard. Other scripts' digits (Devanagari, superscripts) are left alone: no Iranian
    keyboard types them, so they are typos, not numbers."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    """Turn ASCII, Arabic-Indic and full-width digits into Persian digits for Persian readers."""
    return text.translate(_TO_PERSIAN)


def strip_invisible_marks(text: str) -> str:
    """Drop the direction marks and zero-width characters copied text carries.

    A phone's contact card gives "\u202a+98 912 123 4567\u202c": the number wrapped in a
    left-to-right embedding so it reads correctly inside Persian text. For identifiers these marks
    are noise; in names the ZWNJ is orthography, which is why `normalise_persian_text` keeps it.
    """
    return text.translate(_INVISIBLE_MARKS)


def normalise_persian_text(text: str) -> str:
    """Canonical Persian spelling for storage and display.

    Arabic yeh/alef maksura/kaf become Persian yeh/keheh, and whitespace runs collapse to one
    space. The zero-width non-joiner stays: "می‌خواهم" is correct orthography and dropping it
    would change how the word renders.
    """
    text = text.translate(_TO_PERSIAN_LETTERS)
    return _WHITESPACE_RUN.sub(" ", text).strip()


def name_key(text: str) -> str:
    """A key under which two spellings of the same name compare equal.

    On top of `normalise_persian_text` it drops every invisible formatting character (Unicode
    category Cf: ZWNJ, ZWJ, zero-width space, BOM, direction marks), tatweel and all whitespace,
    and casefolds, because agencies disagree on exactly these when they store one name. The key
    is for comparison only; never show it to a user.
    """
    text = normalise_persian_text(text)
    kept = (
        ch
        for ch in text
        if not ch.isspace() and ch != _TATWEEL and unicodedata.category(ch) != "Cf"
    )
    return "".join(kept).casefold()
