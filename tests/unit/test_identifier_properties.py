"""Properties of every identifier parser (DESIGN §5), over classes of input rather than vectors.

1. Valid values round-trip: a valid value, typed or pasted any way people do (Persian,
   Arabic-Indic or full-width digits in any mix, direction marks, zero-width characters, spaces,
   the printed grouping), parses to its canonical form, and the canonical form to itself.
2. Typos: what each check digit catches is computed here from DESIGN §5, independently of the
   code under test, and so is what it provably cannot catch:
   - national code (weights 10..2, mod 11): a one-digit change or an adjacent swap of weighted
     digits always changes r, because 11 is prime and divides neither the change nor the weight
     (difference); it slips through exactly when r moves between 1 and 10, which share the
     check digit 1.
   - bill ID (weights 2..7 from the right, mod 11): the same, with r = 0 and r = 1 sharing the
     check digit 0; an adjacent swap changes the sum by (a − b)·1, or (a − b)·5 across the
     7|2 wrap of the weights.
   - payment ID: a change in its body must slip past both check digits (the second covers the
     bill ID too), each by the same {0, 1} collision.
   - Sheba (mod 97): every one-digit change is caught (97 is prime, 10 is invertible mod 97);
     swaps are proved in test_identifiers.py.
   - postal code and mobile: no check digit; a typo is caught only when it breaks the content rule.
   A change that turns the check digit itself is always caught: the check is a function of the
   other digits. A swap that moves the check digit is decided by the oracle below.
3. Junk: anything at all, of any Python type, gives a canonical value or `InvalidInput` naming
   the field, never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.identifiers import (
    build_payment_id,
    format_postal_code,
    format_sheba,
    parse_bill_id,
    parse_mobile,
    parse_national_code,
    parse_payment_id,
    parse_postal_code,
    parse_sheba,
    sheba_bank_code,
)

DIGITS = "0123456789"
SCRIPTS = ("0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９")
NOISE = [" ", "\u00a0", "\t", "\u200b", "\u200c", "\u200e", "\u200f", "\u202a", "\u202c"]
NOISE += ["\u2066", "\u2069", "\u2060", "\ufeff", "\u061c"]
DASHES = ["-", "\u2010", "\u2011", "\u2013", "\u2212", "\uff0d"]
ASSIGNED_SERVICES = (1, 2, 3, 4, 5, 6, 8, 9)
WATER_BILL = "1234567817"

# --- DESIGN §5, written again from the text -----------------------------------------------------


def national_r(first9: str) -> int:
    return sum(int(d) * (10 - i) for i, d in enumerate(first9)) % 11


def national_check(r: int) -> int:
    return r if r < 2 else 11 - r


def national_ok(code: str) -> bool:
    return (
        re.fullmatch(r"[0-9]{10}", code) is not None
        and len(set(code)) > 1
        and int(code[9]) == national_check(national_r(code[:9]))
    )


def mod11_r(digits: str) -> int:
    return sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits))) % 11


def mod11_check(r: int) -> int:
    return 0 if r < 2 else 11 - r


def bill_ok(bill: str) -> bool:
    significant = bill.lstrip("0")
    return (
        6 <= len(significant) <= 13
        and int(significant[-1]) == mod11_check(mod11_r(significant[:-1]))
        and int(significant[-2]) in ASSIGNED_SERVICES
    )


def payment_ok(payment: str, bill: str) -> bool:
    significant = payment.lstrip("0")
    return (
        6 <= len(significant) <= 13
        and int(significant[-2]) == mod11_check(mod11_r(significant[:-2]))
        and int(significant[-1]) == mod11_check(mod11_r(bill + significant[:-1]))
    )


POSTAL_RULE = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}")


def accepted(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except InvalidInput:
        return False
    return True


# --- strategies ---------------------------------------------------------------------------------


@st.composite
def national_codes(draw: st.DrawFn) -> str:
    first9 = draw(st.text(alphabet=DIGITS, min_size=9, max_size=9))
    code = first9 + str(national_check(national_r(first9)))
    assume(len(set(code)) > 1)
    return code


@st.composite
def bill_ids(draw: st.DrawFn) -> str:
    file_code = draw(st.from_regex(r"[1-9][0-9]{0,7}", fullmatch=True))
    company = draw(st.text(alphabet=DIGITS, min_size=3, max_size=3))
    body = f"{file_code}{company}{draw(st.sampled_from(ASSIGNED_SERVICES))}"
    return body + str(mod11_check(mod11_r(body)))


@st.composite
def payments(draw: st.DrawFn) -> tuple[str, str, int, int, int]:
    """(bill ID, payment ID, amount in Rials, year digit, period), built from DESIGN §5."""
    bill = draw(bill_ids())
    thousands = draw(st.integers(1, 10**8 - 1))
    year, period = draw(st.integers(0, 9)), draw(st.integers(0, 99))
    head = f"{thousands}{year}{period:02d}"
    head += str(mod11_check(mod11_r(head)))
    return bill, head + str(mod11_check(mod11_r(bill + head))), thousands * 1000, year, period


@st.composite
def shebas(draw: st.DrawFn) -> str:
    bban = draw(st.text(alphabet=DIGITS, min_size=22, max_size=22))
    return f"IR{98 - int(bban + '182700') % 97:02d}{bban}"


@st.composite
def postal_codes(draw: st.DrawFn) -> str:
    head = draw(
        st.text(alphabet="13456789", min_size=4, max_size=4).filter(lambda h: len(set(h)) > 1)
    )
    fifth = draw(st.sampled_from("134679"))
    return head + fifth + draw(st.text(alphabet="013456789", min_size=5, max_size=5))


MOBILE_SUBSCRIBERS = st.text(alphabet=DIGITS, min_size=9, max_size=9).map(lambda rest: "9" + rest)


@st.composite
def typed(draw: st.DrawFn, text: str, *, dashes: bool = False) -> str:
    """`text` as a person may type or paste it: each digit in any keyboard's script, invisible
    marks and spaces anywhere, and (where the identifier allows them) dashes anywhere."""
    chars = [draw(st.sampled_from(SCRIPTS))[int(ch)] if ch.isdigit() else ch for ch in text]
    noise = st.sampled_from(NOISE + DASHES if dashes else NOISE)
    for position, mark in draw(st.lists(st.tuples(st.integers(0, len(chars)), noise), max_size=6)):
        chars.insert(position, mark)
    return "".join(chars)


# --- 1. valid values round-trip -----------------------------------------------------------------


@given(st.data(), national_codes())
def test_a_national_code_round_trips(data: st.DataObject, code: str) -> None:
    assert parse_national_code(data.draw(typed(code))) == code
    assert parse_national_code(code) == code
    for lost in (1, 2):  # stored as a number somewhere: up to two leading zeros come back
        if code.startswith("0" * lost):
            assert parse_national_code(code[lost:]) == code


@given(st.data(), bill_ids(), st.integers(0, 3))
def test_a_bill_id_round_trips(data: st.DataObject, bill: str, padding: int) -> None:
    parsed = parse_bill_id(data.draw(typed("0" * padding + bill)))
    assert parsed.value == bill
    assert parsed.service.value == int(bill[-2])
    assert (parsed.file_code, parsed.company_code) == (bill[:-5], bill[-5:-2])
    assert parse_bill_id(parsed.value) == parsed


@given(st.data(), payments())
def test_a_payment_id_round_trips(
    data: st.DataObject, payment: tuple[str, str, int, int, int]
) -> None:
    bill_id, payment_id, amount, year, period = payment
    bill = parse_bill_id(bill_id)
    parsed = parse_payment_id(data.draw(typed(payment_id)), bill)
    assert (parsed.value, parsed.amount_rial, parsed.year_digit, parsed.period) == (
        payment_id,
        amount,
        year,
        period,
    )
    assert build_payment_id(bill, amount, year, period) == payment_id


@given(st.data(), shebas(), st.booleans())
def test_a_sheba_round_trips(data: st.DataObject, sheba: str, lower: bool) -> None:
    printed = format_sheba(sheba)
    assert printed.replace(" ", "") == sheba
    assert all(len(group) == 4 for group in printed.split(" ")[:-1])
    shown = data.draw(typed(printed, dashes=True))
    assert parse_sheba(shown.lower() if lower else shown) == sheba
    assert parse_sheba(sheba) == sheba
    assert sheba_bank_code(sheba) == sheba[4:7]


@given(st.data(), postal_codes())
def test_a_postal_code_round_trips(data: st.DataObject, code: str) -> None:
    assert POSTAL_RULE.fullmatch(code)
    printed = format_postal_code(code)
    assert printed == f"{code[:5]}-{code[5:]}"
    assert parse_postal_code(data.draw(typed(printed))) == code
    assert parse_postal_code(data.draw(typed(code))) == code


MOBILE_FORMS = ["0{}", "{}", "+98{}", "+980{}", "0098{}", "00980{}", "98{}", "980{}"]


@given(st.data(), MOBILE_SUBSCRIBERS, st.sampled_from(MOBILE_FORMS))
def test_a_mobile_round_trips_from_every_prefix(
    data: st.DataObject, subscriber: str, form: str
) -> None:
    """Every prefix, with or without the trunk 0 after it, reads the same number (DESIGN §5)."""
    assert parse_mobile(data.draw(typed(form.format(subscriber), dashes=True))) == "0" + subscriber
    assert parse_mobile("0" + subscriber) == "0" + subscriber


# --- 2. typos -----------------------------------------------------------------------------------


def _changed(text: str, position: int, shift: int) -> str:
    return text[:position] + str((int(text[position]) + shift) % 10) + text[position + 1 :]


def _swapped(text: str, position: int) -> str:
    return text[:position] + text[position + 1] + text[position] + text[position + 2 :]


@given(national_codes(), st.integers(0, 8))
@example(code="4270295181", position=0)  # r 1 → 10: 2470295181 is valid too
def test_an_adjacent_swap_in_a_national_code_is_caught_unless_r_moves_between_1_and_10(
    code: str, position: int
) -> None:
    assume(code[position] != code[position + 1])
    swapped = _swapped(code, position)
    if position < 8:  # two weighted digits: s changes by (b − a)·1
        before, after = national_r(code[:9]), national_r(swapped[:9])
        assert before != after
        slips = {before, after} == {1, 10} and len(set(swapped)) > 1
        assert slips == national_ok(swapped)
    else:  # the last weighted digit trades places with the check digit
        slips = national_ok(swapped)
    assert accepted(parse_national_code, swapped) == slips


@given(bill_ids(), st.integers(0, 12), st.integers(1, 9))
@example(bill="9222420820", position=2, shift=5)  # 2 → 7: r 1 → 0, check digit 0 either way
def test_a_one_digit_change_in_a_bill_id_is_caught_unless_r_moves_between_0_and_1(
    bill: str, position: int, shift: int
) -> None:
    position %= len(bill)
    changed = _changed(bill, position, shift)
    if position == len(bill) - 1:
        slips = False
    else:
        before, after = mod11_r(bill[:-1]), mod11_r(changed[:-1])
        assert before != after
        slips = (
            {before, after} == {0, 1}
            and int(changed[-2]) in ASSIGNED_SERVICES
            and len(changed.lstrip("0")) >= 6
        )
    assert slips == bill_ok(changed)
    assert accepted(parse_bill_id, changed) == slips


@given(bill_ids(), st.integers(0, 11))
@example(bill="5262234330", position=5)  # 5262243330: r 0 → 1
def test_an_adjacent_swap_in_a_bill_id_is_caught_unless_r_moves_between_0_and_1(
    bill: str, position: int
) -> None:
    position %= len(bill) - 1
    assume(bill[position] != bill[position + 1])
    swapped = _swapped(bill, position)
    if position < len(bill) - 2:
        before, after = mod11_r(bill[:-1]), mod11_r(swapped[:-1])
        assert before != after
        slips = (
            {before, after} == {0, 1}
            and int(swapped[-2]) in ASSIGNED_SERVICES
            and len(swapped.lstrip("0")) >= 6
        )
        assert slips == bill_ok(swapped)
    else:  # the service digit trades places with the check digit
        slips = bill_ok(swapped)
    assert accepted(parse_bill_id, swapped) == slips


@given(payments(), st.integers(0, 12), st.integers(1, 9))
@example(payment=(WATER_BILL, "7495225500", 74_952_000, 2, 55), position=4, shift=8)
def test_a_one_digit_change_in_a_payment_id_must_slip_past_both_check_digits(
    payment: tuple[str, str, int, int, int], position: int, shift: int
) -> None:
    """The example: 7495225500 → 7495025500 moves both sums between 0 and 1 and slips."""
    bill_id, payment_id = payment[:2]
    position %= len(payment_id)
    changed = _changed(payment_id, position, shift)
    if position >= len(payment_id) - 2:
        slips = False  # a check digit changed: each is a function of the digits before it
    else:
        first = mod11_r(payment_id[:-2]), mod11_r(changed[:-2])
        second = mod11_r(bill_id + payment_id[:-1]), mod11_r(bill_id + changed[:-1])
        assert first[0] != first[1] and second[0] != second[1]
        slips = set(first) == {0, 1} and set(second) == {0, 1} and len(changed.lstrip("0")) >= 6
    assert slips == payment_ok(changed, bill_id)
    bill = parse_bill_id(bill_id)
    assert accepted(lambda text: parse_payment_id(text, bill), changed) == slips


@given(payments(), st.integers(0, 11))
def test_an_adjacent_swap_in_a_payment_id_is_caught_as_the_two_sums_say(
    payment: tuple[str, str, int, int, int], position: int
) -> None:
    bill_id, payment_id = payment[:2]
    position %= len(payment_id) - 1
    assume(payment_id[position] != payment_id[position + 1])
    swapped = _swapped(payment_id, position)
    if position < len(payment_id) - 3:  # two body digits: both sums move
        assert mod11_r(payment_id[:-2]) != mod11_r(swapped[:-2])
        assert mod11_r(bill_id + payment_id[:-1]) != mod11_r(bill_id + swapped[:-1])
    bill = parse_bill_id(bill_id)
    expected = payment_ok(swapped, bill_id)
    assert accepted(lambda text: parse_payment_id(text, bill), swapped) == expected


@given(shebas(), st.integers(2, 25), st.integers(1, 9))
def test_every_one_digit_change_in_a_sheba_is_caught(sheba: str, position: int, shift: int) -> None:
    """The number changes by Δ·10^k with 0 < |Δ| ≤ 9: never a multiple of the prime 97."""
    changed = _changed(sheba, position, shift)
    assert invalid_message(parse_sheba, changed) == "sheba check digits do not match"


@given(postal_codes(), st.integers(0, 9), st.integers(1, 9))
def test_a_postal_code_typo_is_caught_only_when_it_breaks_the_content_rule(
    code: str, position: int, shift: int
) -> None:
    changed = _changed(code, position, shift)
    assert accepted(parse_postal_code, changed) == bool(POSTAL_RULE.fullmatch(changed))


@given(MOBILE_SUBSCRIBERS, st.integers(2, 10), st.integers(1, 9))
def test_a_mobile_typo_after_09_is_never_caught(subscriber: str, position: int, shift: int) -> None:
    """No check digit: any 09 + 9 digits is a mobile number. Only Shahkar can tell it is not
    the citizen's (its MISMATCH / NOT_REGISTERED)."""
    changed = _changed("0" + subscriber, position, shift)
    assert parse_mobile(changed) == changed


def invalid_message(parse: Callable[[str], object], text: str) -> str:
    with pytest.raises(InvalidInput) as error:
        parse(text)
    return error.value.message


# --- 3. junk ------------------------------------------------------------------------------------

INVISIBLE_OR_SPACE = re.compile(r"[\s\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
NEAR_MISS_ALPHABET = "".join(SCRIPTS) + "".join(NOISE) + "".join(DASHES) + "+IRir²६/.\n"
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.binary(),
    st.text(),
    st.text(alphabet=NEAR_MISS_ALPHABET, max_size=40),
    st.lists(st.text(alphabet=DIGITS), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.integers()),
)


def _payment_for_water_bill(raw: Any, *, field: str) -> Any:
    return parse_payment_id(raw, parse_bill_id(WATER_BILL), field=field)


PARSERS: dict[str, tuple[Callable[..., Any], Callable[[Any], str], str]] = {
    "nationalCode": (parse_national_code, str, r"[0-9]{10}"),
    "billId": (parse_bill_id, lambda bill: bill.value, r"[1-9][0-9]{5,12}"),
    "paymentId": (_payment_for_water_bill, lambda payment: payment.value, r"[1-9][0-9]{5,12}"),
    "sheba": (parse_sheba, str, r"IR[0-9]{24}"),
    "postalCode": (parse_postal_code, str, r"[0-9]{10}"),
    "mobile": (parse_mobile, str, r"09[0-9]{9}"),
}


@pytest.mark.parametrize("name", list(PARSERS))
@given(value=ANYTHING)
@example(value="-")
@example(value=9121234567)
@example(value=None)
@example(value=b"0012345679")
def test_junk_gives_a_canonical_value_or_invalid_input_and_nothing_else(
    name: str, value: Any
) -> None:
    parse, canonical, shape = PARSERS[name]
    try:
        result = parse(value, field="probe")
    except InvalidInput as error:
        assert error.field == "probe" and error.message
        # "required" only for text with nothing visible in it; "-" is invalid, not missing
        nothing_visible = isinstance(value, str) and not INVISIBLE_OR_SPACE.sub("", value)
        assert error.message.endswith("is required") == nothing_visible
        if isinstance(value, str) and len(value) >= 6 and value.isdigit():
            assert value not in error.message  # never echoes what may be a national code
        return
    text = canonical(result)
    assert re.fullmatch(shape, text)
    assert canonical(parse(text, field="probe")) == text  # the canonical form is a fixed point


@pytest.mark.parametrize("name", list(PARSERS))
@pytest.mark.parametrize("value", [9121234567, 12.5, None, True, b"12", ["0912"], {"a": 1}])
def test_a_value_that_is_not_text_is_invalid_input(name: str, value: Any) -> None:
    parse = PARSERS[name][0]
    with pytest.raises(InvalidInput, match="must be text") as error:
        parse(value, field="probe")
    assert error.value.field == "probe"
