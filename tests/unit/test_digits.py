"""Digits and Persian letters: every keyboard's input reaches the parsers as one spelling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.digits import (
    name_key,
    normalise_persian_text,
    strip_invisible_marks,
    to_ascii_digits,
    to_persian_digits,
)

ZWNJ = "\u200c"
ZWJ = "\u200d"


# --- to_ascii_digits / to_persian_digits --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),  # Persian (U+06F0..U+06F9)
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),  # Arabic-Indic (U+0660..U+0669)
        ("０１２３４５６７８９", "0123456789"),  # full-width (U+FF10..U+FF19)
        ("0123456789", "0123456789"),
        ("کد ملی: ۰۰۱۲۳٤٥٦٧٩ (ok)", "کد ملی: 0012345679 (ok)"),  # mixed scripts, rest unchanged
        ("", ""),
        ("१२३", "१२३"),  # Devanagari is not a keyboard Iranians use: left alone
        ("²³", "²³"),  # superscripts are not digits anyone types in a form
    ],
)
def test_to_ascii_digits(text: str, expected: str) -> None:
    assert to_ascii_digits(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1403/07/15", "۱۴۰۳/۰۷/۱۵"),
        ("٤٥٦", "۴۵۶"),  # Arabic-Indic 4-6 have distinct Persian glyphs
        ("abc ۱۲", "abc ۱۲"),
    ],
)
def test_to_persian_digits(text: str, expected: str) -> None:
    assert to_persian_digits(text) == expected


@given(st.text(alphabet="0123456789"))
def test_persian_digits_round_trip_ascii_digit_strings(s: str) -> None:
    assert to_ascii_digits(to_persian_digits(s)) == s


@given(st.text())
def test_persian_then_ascii_equals_ascii_for_any_text(s: str) -> None:
    assert to_ascii_digits(to_persian_digits(s)) == to_ascii_digits(s)


# --- strip_invisible_marks ---------------------------------------------------------------------

# DESIGN §5's ranges, and the four the same sources insert (ZWSP, WJ, BOM, ALM).
INVISIBLE = [
    *map(chr, range(0x200C, 0x2010)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u200b",
    "\u2060",
    "\ufeff",
    "\u061c",
]


@pytest.mark.parametrize("mark", INVISIBLE)
def test_strip_invisible_marks_drops_each_mark(mark: str) -> None:
    assert strip_invisible_marks(f"{mark}09{mark}12{mark}") == "0912"


def test_a_number_copied_from_a_phone_loses_its_embedding() -> None:
    assert strip_invisible_marks("\u202a+98 912 123 4567\u202c") == "+98 912 123 4567"


@given(st.text())
def test_strip_invisible_marks_leaves_every_other_character(s: str) -> None:
    assert strip_invisible_marks(s) == "".join(ch for ch in s if ch not in INVISIBLE)


# --- normalise_persian_text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh U+064A
        ("مصطفى", "مصطفی"),  # alef maksura U+0649
        ("كريم", "کریم"),  # Arabic kaf U+0643
        ("  علی   رضا \t\n", "علی رضا"),  # runs of whitespace collapse, ends stripped
        (f"می{ZWNJ}خواهم", f"می{ZWNJ}خواهم"),  # ZWNJ is correct orthography: kept
        ("Ali", "Ali"),
        ("", ""),
    ],
)
def test_normalise_persian_text(text: str, expected: str) -> None:
    assert normalise_persian_text(text) == expected


def test_normalise_leaves_digits_alone() -> None:
    assert normalise_persian_text("پلاک ۱۲") == "پلاک ۱۲"


@given(st.text())
def test_normalise_is_idempotent(s: str) -> None:
    once = normalise_persian_text(s)
    assert normalise_persian_text(once) == once


# --- name_key -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("علي رضا", "علیرضا"),  # Arabic yeh and a space
        (f"محمد{ZWNJ}رضا", "محمد رضا"),  # ZWNJ vs space
        (f"محمد{ZWJ}رضا", "محمدرضا"),  # ZWJ
        ("محمد\u200bرضا", "محمدرضا"),  # zero-width space
        ("\ufeffکریم", "كريم"),  # BOM from a CSV export, Arabic kaf and yeh
        ("\u200fعلی\u200e", "علی"),  # RLM / LRM direction marks
        ("محمـــد", "محمد"),  # tatweel
        ("ALI Rezaei", "ali rezaei"),  # casefold
        ("STRASSE", "straße"),  # casefold, not lower()
    ],
)
def test_name_key_equal_spellings(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("علی", "عالی"), ("کریم", "کریمی"), ("ali", "aly")])
def test_name_key_different_names(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_name_key_has_no_invisible_characters_or_spaces() -> None:
    assert name_key(f" علی {ZWNJ} رضا\u200b ") == "علیرضا"


@given(st.text())
def test_name_key_is_idempotent(s: str) -> None:
    once = name_key(s)
    assert name_key(once) == once
