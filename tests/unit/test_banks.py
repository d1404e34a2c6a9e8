"""The Sheba bank table: well-formed rows, and the banks DESIGN §5 names where it says."""

from __future__ import annotations

import re

from domain.banks import BANKS, bank_for_code
from domain.digits import normalise_persian_text
from domain.identifiers import parse_sheba, sheba_bank_code


def test_every_row_is_keyed_by_its_own_three_digit_code() -> None:
    for code, bank in BANKS.items():
        assert re.fullmatch(r"0[0-9]{2}", code) and bank.code == code


def test_names_are_given_in_both_languages_and_persian_is_spelled_the_persian_way() -> None:
    for bank in BANKS.values():
        assert bank.name_en.isascii() and bank.name_en.strip() == bank.name_en
        assert normalise_persian_text(bank.name_fa) == bank.name_fa  # ی and ک, not ي and ك
        assert not bank.name_fa.isascii()
    assert len({bank.name_en for bank in BANKS.values()}) == len(BANKS)


def test_design_examples_017_melli_and_012_mellat() -> None:
    assert bank_for_code("017").name_en == "Bank Melli Iran"  # type: ignore[union-attr]
    assert bank_for_code("012").name_fa == "بانک ملت"  # type: ignore[union-attr]


def test_published_shebas_name_their_banks() -> None:
    """Shebas printed as examples by Iranian libraries and banks (Parsian, Pasargad)."""
    parsian = parse_sheba("IR820540102680020817909002")
    pasargad = parse_sheba("IR55 0570 0220 8001 3447 3701 01")
    assert bank_for_code(sheba_bank_code(parsian)).name_en == "Parsian Bank"  # type: ignore[union-attr]
    assert bank_for_code(sheba_bank_code(pasargad)).name_en == "Bank Pasargad"  # type: ignore[union-attr]


def test_a_code_no_bank_has_is_none() -> None:
    assert bank_for_code("296") is None
    assert bank_for_code("17") is None
