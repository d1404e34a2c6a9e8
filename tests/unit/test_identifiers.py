"""Identifier rules of DESIGN §5: known vectors worked by hand, every error path, and properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from domain.digits import to_persian_digits
from domain.errors import InvalidInput
from domain.identifiers import (
    BillId,
    PaymentId,
    ServiceType,
    build_payment_id,
    format_postal_code,
    mod11_check_digit,
    national_code_check_digit,
    parse_bill_id,
    parse_mobile,
    parse_national_code,
    parse_payment_id,
    parse_postal_code,
    parse_sheba,
)

DIGITS = "0123456789"
ARABIC_INDIC = str.maketrans(DIGITS, "٠١٢٣٤٥٦٧٨٩")


def invalid(parse: Callable[..., object], *args: object, **kwargs: object) -> InvalidInput:
    """The `InvalidInput` a parser raises for these arguments."""
    with pytest.raises(InvalidInput) as exc:
        parse(*args, **kwargs)
    return exc.value


# --- national code ------------------------------------------------------------------------------

# s = Σ d[i]·(10−i) over the first nine digits; r = s mod 11; check = r if r < 2 else 11 − r.
#   0012345679: s = 0·10+0·9+1·8+2·7+3·6+4·5+5·4+6·3+7·2 = 8+14+18+20+20+18+14 = 112;
#               112 mod 11 = 2 → check 11−2 = 9.
#   1000000011: s = 1·10 + 1·2 = 12; 12 mod 11 = 1 < 2 → check 1.
#   0100000010: s = 1·9 + 1·2 = 11; 11 mod 11 = 0 → check 0.
#   3000000011: s = 3·10 + 1·2 = 32; 32 mod 11 = 10 → check 11−10 = 1.
#   1111111111: s = 1·(10+9+…+2) = 54; 54 mod 11 = 10 → check 1: passes the sum, rejected as
#               ten identical digits. In general x…x gives s = 54x ≡ −x (mod 11), check x, so
#               every repdigit passes the checksum, which is why the rule exists.


@pytest.mark.parametrize(
    ("first9", "check"),
    [("001234567", 9), ("100000001", 1), ("010000001", 0), ("300000001", 1), ("111111111", 1)],
)
def test_national_code_check_digit(first9: str, check: int) -> None:
    assert national_code_check_digit(first9) == check


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "۰۰۱۲۳۴۵۶۷"])
def test_national_code_check_digit_needs_nine_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="9 ASCII digits"):
        national_code_check_digit(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0012345679", "0012345679"),
        ("1000000011", "1000000011"),
        ("0100000010", "0100000010"),
        ("3000000011", "3000000011"),
        ("012345679", "0012345679"),  # nine digits: left-padded
        ("12345679", "0012345679"),  # eight digits: left-padded
        ("۰۰۱۲۳۴۵۶۷۹", "0012345679"),  # Persian digits
        ("٠٠١٢٣٤٥٦٧٩", "0012345679"),  # Arabic-Indic digits
        ("۰۰۱۲۳٤٥٦٧٩", "0012345679"),  # mixed, as a Persian keyboard with an Arabic layout gives
        ("  0012345679\t", "0012345679"),
    ],
)
def test_parse_national_code_valid(raw: str, expected: str) -> None:
    assert parse_national_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "national code is required"),
        ("   ", "national code is required"),
        ("0012345678", "national code check digit does not match"),
        ("0012345697", "national code check digit does not match"),  # swapped last two digits
        ("1111111111", "national code cannot be ten identical digits"),
        ("0000000000", "national code cannot be ten identical digits"),
        ("00000000", "national code cannot be ten identical digits"),  # zero after padding
        ("۵۵۵۵۵۵۵۵۵۵", "national code cannot be ten identical digits"),
        ("1234567", "national code must have 10 digits"),
        ("00123456790", "national code must have 10 digits"),
        ("001-234567-9", "national code must contain only digits"),
        ("00123a5679", "national code must contain only digits"),
        ("-012345679", "national code must contain only digits"),
        ("००१२३४५६७९", "national code must contain only digits"),  # Devanagari digits
        ("²012345679", "national code must contain only digits"),  # str.isdigit() says True
    ],
)
def test_parse_national_code_invalid(raw: str, message: str) -> None:
    error = invalid(parse_national_code, raw)
    assert error.field == "nationalCode"
    assert error.message == message
    assert not raw.strip() or raw.strip() not in error.message  # never echoes the code


def test_parse_national_code_reports_the_callers_field() -> None:
    assert invalid(parse_national_code, "123", field="subjectNationalCode").field == (
        "subjectNationalCode"
    )


def _national_code_r(first9: str) -> int:
    """r = Σ d[i]·(10−i) mod 11, written out again so the property does not trust the code."""
    return sum(int(d) * (10 - i) for i, d in enumerate(first9)) % 11


_NINE_DIGITS = st.text(alphabet=DIGITS, min_size=9, max_size=9)


def _with_check(first9: str) -> str:
    r = _national_code_r(first9)
    return first9 + str(r if r < 2 else 11 - r)


@given(_NINE_DIGITS, st.sampled_from(["ascii", "persian", "arabic"]))
def test_every_valid_national_code_parses(first9: str, script: str) -> None:
    code = _with_check(first9)
    assume(len(set(code)) > 1)
    typed = {
        "ascii": code,
        "persian": to_persian_digits(code),
        "arabic": code.translate(ARABIC_INDIC),
    }[script]
    assert parse_national_code(typed) == code


@given(_NINE_DIGITS, st.integers(0, 9), st.integers(1, 9))
@example(first9="100000001", position=0, shift=2)  # 1000000011 → 3000000011: r 1 → 10, valid
@example(first9="111111112", position=8, shift=9)  # 1111111121 → 1111111111: repdigit
def test_one_wrong_digit_is_caught_exactly_when_the_math_allows(
    first9: str, position: int, shift: int
) -> None:
    """Changing digit i < 9 by Δ changes s by Δ·(10−i); 11 is prime and neither factor is a
    multiple of it, so r always changes. The check maps r → r for r < 2 and 11 − r otherwise,
    which is one-to-one except that r = 1 and r = 10 both give 1. So a one-digit change slips
    through exactly when it moves r between 1 and 10 (and the result is not a repdigit); a
    changed check digit never does, because r is unchanged and the check is a function of r.
    """
    code = _with_check(first9)
    assume(len(set(code)) > 1)
    mutated_digit = str((int(code[position]) + shift) % 10)
    mutated = code[:position] + mutated_digit + code[position + 1 :]

    if position == 9:
        still_valid = False
    else:
        r_before, r_after = _national_code_r(code[:9]), _national_code_r(mutated[:9])
        still_valid = {r_before, r_after} == {1, 10} and len(set(mutated)) > 1

    if still_valid:
        assert parse_national_code(mutated) == mutated
    else:
        assert invalid(parse_national_code, mutated).message in {
            "national code check digit does not match",
            "national code cannot be ten identical digits",
        }


# --- mod-11 check digit -------------------------------------------------------------------------

# Weights 2,3,4,5,6,7,2,3,… from the rightmost digit; r = sum mod 11; 0 if r < 2 else 11 − r.
#   123456781: 1·2+8·3+7·4+6·5+5·6+4·7+3·2+2·3+1·4 = 2+24+28+30+30+28+6+6+4 = 158;
#              158 mod 11 = 4 → 7.
#   123456785: 10+24+28+30+30+28+6+6+4 = 166; 166 mod 11 = 1 < 2 → 0.
#   123456780:  0+24+28+30+30+28+6+6+4 = 156; 156 mod 11 = 2 → 9.
#   123456789: 18+24+28+30+30+28+6+6+4 = 174; 174 mod 11 = 9 → 2.
#   12345:     5·2+4·3+3·4+2·5+1·6 = 10+12+12+10+6 = 50; 50 mod 11 = 6 → 5.
#   125307:    7·2+0·3+3·4+5·5+2·6+1·7 = 14+0+12+25+12+7 = 70; 70 mod 11 = 4 → 7.


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("123456781", 7),
        ("123456785", 0),
        ("123456780", 9),
        ("123456789", 2),
        ("12345", 5),
        ("125307", 7),
        ("000125307", 7),  # leading zeros weigh nothing
        ("", 0),
    ],
)
def test_mod11_check_digit(digits: str, check: int) -> None:
    assert mod11_check_digit(digits) == check


def test_mod11_check_digit_needs_ascii_digits() -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        mod11_check_digit("12a")


# --- bill ID ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digit", "service"),
    [
        (1, ServiceType.WATER),
        (2, ServiceType.ELECTRICITY),
        (3, ServiceType.GAS),
        (4, ServiceType.FIXED_PHONE),
        (5, ServiceType.MOBILE),
        (6, ServiceType.MUNICIPALITY),
        (8, ServiceType.TAX),
        (9, ServiceType.TRAFFIC_FINE),
    ],
)
def test_service_type_from_digit(digit: int, service: ServiceType) -> None:
    assert ServiceType.from_digit(digit) is service


@pytest.mark.parametrize("digit", [0, 7, 10, -1])
def test_service_type_from_digit_rejects_unassigned_digits(digit: int) -> None:
    with pytest.raises(ValueError, match="not an assigned bill service digit"):
        ServiceType.from_digit(digit)


def test_every_service_digit_but_0_and_7_is_assigned() -> None:
    assert sorted(service.value for service in ServiceType) == [1, 2, 3, 4, 5, 6, 8, 9]


# Bill IDs from the check digits worked above: file code + company code (3) + service (1) + check.
#   123456788 (service 8): 8·2+8·3+7·4+6·5+5·6+4·7+3·2+2·3+1·4 = 172; 172 mod 11 = 7 → 4.
#   123456787 (service 7): 7·2+8·3+… = 170; 170 mod 11 = 5 → 6: a right check digit, but 7 is
#   assigned to no service, so 1234567876 is refused all the same.
WATER_BILL = BillId("1234567817", ServiceType.WATER, company_code="678", file_code="12345")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567817", WATER_BILL),
        ("0001234567817", WATER_BILL),  # leading zeros dropped
        ("۱۲۳۴۵۶۷۸۱۷", WATER_BILL),
        ("١٢٣٤٥٦٧٨١٧", WATER_BILL),
        (" 1234567817 ", WATER_BILL),
        ("1234567850", BillId("1234567850", ServiceType.MOBILE, "678", "12345")),  # r < 2 → 0
        ("1234567884", BillId("1234567884", ServiceType.TAX, "678", "12345")),  # 8
        ("1234567892", BillId("1234567892", ServiceType.TRAFFIC_FINE, "678", "12345")),  # 9
        ("1234 567817", WATER_BILL),  # spaces are copying noise
        ("\u202a1234567817\u202c", WATER_BILL),  # direction marks from a phone
        ("１２３４５６７８１７", WATER_BILL),  # full-width digits
        ("123455", BillId("123455", ServiceType.MOBILE, "234", "1")),  # shortest: 6 digits
    ],
)
def test_parse_bill_id_valid(raw: str, expected: BillId) -> None:
    assert parse_bill_id(raw) == expected


def test_parse_bill_id_accepts_13_significant_digits_after_padding() -> None:
    body = "12345678" + "901" + "2"
    bill = body + str(mod11_check_digit(body))
    assert parse_bill_id("000" + bill).value == bill


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "bill ID is required"),
        ("1234567818", "bill ID check digit does not match"),
        ("1234567871", "bill ID check digit does not match"),  # swapped last two digits
        ("1234567809", "bill ID service digit (second-last) 0 is assigned to no service"),
        ("1234567876", "bill ID service digit (second-last) 7 is assigned to no service"),
        ("-", "bill ID must contain only digits"),
        ("12345", "bill ID must have 6 to 13 digits"),
        ("0012345", "bill ID must have 6 to 13 digits"),  # 5 significant digits
        ("000000", "bill ID must have 6 to 13 digits"),
        ("12345678901234", "bill ID must have 6 to 13 digits"),
        ("1234-567817", "bill ID must contain only digits"),
        ("1234567817a", "bill ID must contain only digits"),
    ],
)
def test_parse_bill_id_invalid(raw: str, message: str) -> None:
    error = invalid(parse_bill_id, raw)
    assert error.field == "billId"
    assert error.message == message


def test_parse_bill_id_reports_the_callers_field() -> None:
    assert invalid(parse_bill_id, "1", field="bills[2].billId").field == "bills[2].billId"


# --- payment ID ---------------------------------------------------------------------------------

# For WATER_BILL, 125,000 Rials, year digit 3, period 07:
#   body = 125 · 3 · 07 = "125307"; first check = mod11("125307") = 7 (worked above).
#   second check = mod11("1234567817" + "1253077"): from the right, digits 7,7,0,3,5,2,1,7,1,8,
#   7,6,5,4,3,2,1 × weights 2,3,4,5,6,7,2,3,4,5,6,7,2,3,4,5,6 =
#   14+21+0+15+30+14+2+21+4+40+42+42+10+12+12+10+6 = 295; 295 mod 11 = 9 → 2.
#   Payment ID 12530772.
WATER_PAYMENT = PaymentId("12530772", amount_rial=125_000, year_digit=3, period=7)


@pytest.mark.parametrize("raw", ["12530772", "0012530772", "۱۲۵۳۰۷۷۲", "١٢٥٣٠٧٧٢", "  12530772  "])
def test_parse_payment_id_valid(raw: str) -> None:
    assert parse_payment_id(raw, WATER_BILL) == WATER_PAYMENT


def test_build_payment_id_known_vector() -> None:
    assert build_payment_id(WATER_BILL, 125_000, 3, 7) == "12530772"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "payment ID is required"),
        ("12530782", "payment ID first check digit does not match"),
        ("12530770", "payment ID does not match the bill ID (second check digit)"),
        ("12345", "payment ID must have 6 to 13 digits"),
        ("00012345", "payment ID must have 6 to 13 digits"),
        ("12345678901234", "payment ID must have 6 to 13 digits"),
        ("125307-72", "payment ID must contain only digits"),
    ],
)
def test_parse_payment_id_invalid(raw: str, message: str) -> None:
    error = invalid(parse_payment_id, raw, WATER_BILL)
    assert error.field == "paymentId"
    assert error.message == message


def test_payment_id_for_another_bill_is_rejected() -> None:
    other_bill = parse_bill_id("1234567850")
    error = invalid(parse_payment_id, "12530772", other_bill, field="payId")
    assert error.field == "payId"
    assert error.message == "payment ID does not match the bill ID (second check digit)"


@pytest.mark.parametrize(
    ("amount", "year", "period", "message"),
    [
        (125_500, 3, 7, "multiple of 1000"),
        (0, 3, 7, "positive multiple of 1000"),
        (-1000, 3, 7, "positive multiple of 1000"),
        (125_000, 10, 7, "year_digit"),
        (125_000, -1, 7, "year_digit"),
        (125_000, 3, 100, "period"),
        (125_000, 3, -1, "period"),
        (10**11, 3, 7, "too large"),  # 9 amount digits + 5 = 14 digits
    ],
)
def test_build_payment_id_rejects_bad_arguments(
    amount: int, year: int, period: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_payment_id(WATER_BILL, amount, year, period)


@st.composite
def bills(draw: st.DrawFn) -> BillId:
    """Any valid bill ID, built from its parts: file code, company code, service, check digit."""
    file_code = draw(st.from_regex(r"[1-9][0-9]{0,7}", fullmatch=True))
    company = draw(st.text(alphabet=DIGITS, min_size=3, max_size=3))
    service = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 8, 9]))
    body = f"{file_code}{company}{service}"
    return parse_bill_id(body + str(mod11_check_digit(body)))


@given(
    bills(),
    st.integers(1, 10**8 - 1).map(lambda thousands: thousands * 1000),
    st.integers(0, 9),
    st.integers(0, 99),
)
def test_build_then_parse_payment_id_round_trips(
    bill: BillId, amount: int, year: int, period: int
) -> None:
    payment_id = build_payment_id(bill, amount, year, period)
    assert 6 <= len(payment_id) <= 13
    assert parse_payment_id(payment_id, bill) == PaymentId(payment_id, amount, year, period)
    assert parse_payment_id(to_persian_digits(payment_id), bill).value == payment_id


@given(bills())
def test_generated_bill_ids_split_into_their_parts(bill: BillId) -> None:
    assert bill.file_code + bill.company_code + bill.value[-2:] == bill.value
    assert bill.service is ServiceType.from_digit(int(bill.value[-2]))


# --- Sheba --------------------------------------------------------------------------------------

# ISO 13616: move "IR" + check digits to the end, I=18, R=27, number mod 97 must be 1.
#   IR06 2960 0000 0010 0324 2000 01 → 2960000000100324200001 1827 06; mod 97 nine digits at a time:
#   296000000 mod 97 = 38; 38010032420 mod 97 = 32; 32000118270 mod 97 = 48; 486 mod 97 = 1. ✓
#   IR?? 0170 0000 0012 3456 7890 12: 0170000000123456789012 1827 00 mod 97:
#   017000000 → 71; 71012345678 → 89; 89901218270 → 19; 190 → 93; check = 98 − 93 = 05.
SHEBA = "IR062960000000100324200001"
SHEBA_2 = "IR050170000000123456789012"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SHEBA, SHEBA),
        (SHEBA_2, SHEBA_2),
        ("ir062960000000100324200001", SHEBA),
        ("IR06 2960 0000 0010 0324 2000 01", SHEBA),  # as printed on cards
        ("IR06-2960-0000-0010-0324-2000-01", SHEBA),
        ("  iR06 2960 0000 0010 0324 2000 01 ", SHEBA),
        ("IR۰۶۲۹۶۰۰۰۰۰۰۰۱۰۰۳۲۴۲۰۰۰۰۱", SHEBA),
        ("IR٠٦٢٩٦٠٠٠٠٠٠٠١٠٠٣٢٤٢٠٠٠٠١", SHEBA),
        ("IR970000000000000000000009", "IR970000000000000000000009"),
    ],
)
def test_parse_sheba_valid(raw: str, expected: str) -> None:
    assert parse_sheba(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "sheba is required"),
        ("  ", "sheba is required"),
        ("062960000000100324200001", "sheba must start with IR"),
        ("DE89370400440532013000", "sheba must start with IR"),
        ("IR06296000000010032420000A", "sheba must have only digits after IR"),
        ("IR", "sheba must have only digits after IR"),
        ("IR06296000000010032420000", "sheba must have 24 digits after IR"),
        ("IR0629600000001003242000011", "sheba must have 24 digits after IR"),
        ("IR072960000000100324200001", "sheba check digits do not match"),
        ("IR062960000000100324200010", "sheba check digits do not match"),  # swapped pair
        # 00, 01 and 99 satisfy the congruence where 97, 98 and 02 do (97 ≡ 0, 98 ≡ 1, 99 ≡ 2
        # mod 97) but ISO 7064 never issues them.
        ("IR000000000000000000000009", "sheba check digits do not match"),
        ("IR010000000000000000000088", "sheba check digits do not match"),
        ("IR990000000000000000000070", "sheba check digits do not match"),
    ],
)
def test_parse_sheba_invalid(raw: str, message: str) -> None:
    error = invalid(parse_sheba, raw)
    assert error.field == "sheba"
    assert error.message == message


def test_out_of_range_check_digits_really_pass_the_congruence() -> None:
    for bban, check in [("0" * 21 + "9", "00"), ("0" * 20 + "88", "01"), ("0" * 20 + "70", "99")]:
        assert int(bban + "1827" + check) % 97 == 1


def test_parse_sheba_reports_the_callers_field() -> None:
    assert invalid(parse_sheba, "x", field="refundSheba").field == "refundSheba"


def _sheba_for(bban: str) -> str:
    """ISO 7064 MOD 97-10 check digits: 98 − (BBAN · "IR" · "00" as digits) mod 97."""
    check = 98 - int(bban + "182700") % 97
    return f"IR{check:02d}{bban}"


_BBANS = st.text(alphabet=DIGITS, min_size=22, max_size=22)


@given(_BBANS, st.sampled_from(["plain", "lower", "grouped", "persian"]))
def test_generated_valid_shebas_parse(bban: str, style: str) -> None:
    sheba = _sheba_for(bban)
    typed = {
        "plain": sheba,
        "lower": sheba.lower(),
        "grouped": " ".join(sheba[i : i + 4] for i in range(0, 26, 4)),
        "persian": to_persian_digits(sheba),
    }[style]
    assert parse_sheba(typed) == sheba


@given(_BBANS, st.integers(2, 25), st.integers(2, 25))
def test_swapping_two_different_digits_is_always_caught(bban: str, i: int, j: int) -> None:
    """Swapping digits a ≠ b at decimal positions p > q of the rearranged number changes it by
    (a−b)·10^q·(10^(p−q) − 1). 97 is prime and divides none of these: |a−b| ≤ 9, and 10 has
    order 96 mod 97 while p − q ≤ 27. So the residue moves off 1, for any pair, adjacent or not,
    check digits included.
    """
    sheba = _sheba_for(bban)
    assume(sheba[i] != sheba[j])
    chars = list(sheba)
    chars[i], chars[j] = chars[j], chars[i]
    assert invalid(parse_sheba, "".join(chars)).message == "sheba check digits do not match"


def test_ten_has_order_96_mod_97() -> None:
    assert pow(10, 96, 97) == 1
    assert all(pow(10, k, 97) != 1 for k in range(1, 96))


# --- postal code --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "1193653471",
        "11936-53471",
        "11936 - 53471",
        "11936 53471",
        "119 36 53471",  # spaces anywhere are copying noise
        "11936\u201353471",  # en dash from a word processor
        "11936\uff0d53471",  # full-width hyphen
        "۱۱۹۳۶-۵۳۴۷۱",
        "١١٩٣٦٥٣٤٧١",
        "１１９３６５３４７１",  # full-width digits
        "\u202b۱۱۹۳۶-۵۳۴۷۱\u202c",  # direction marks
        "  1193653471 ",
    ],
)
def test_parse_postal_code_valid(raw: str) -> None:
    assert parse_postal_code(raw) == "1193653471"


def test_format_postal_code_is_how_it_is_printed() -> None:
    assert format_postal_code("1193653471") == "11936-53471"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "postal code is required"),
        ("\u200f \u200e", "postal code is required"),
        ("-", "postal code must contain only digits"),
        ("119365347", "postal code must have 10 digits"),
        ("11936534711", "postal code must have 10 digits"),
        ("11936-5347", "postal code must have 10 digits"),
        ("1193-653471", "postal code may have a dash only after the fifth digit"),
        ("11936--53471", "postal code may have a dash only after the fifth digit"),
        ("ABCDE-12345", "postal code must contain only digits"),
        ("11936/53471", "postal code must contain only digits"),
        # The Post Company's content rule (DESIGN §5): [13-9]{4}[1346-9][013-9]{5}, and not four
        # equal digits at the start.
        ("0000000000", "postal code cannot have 0 or 2 in its first five digits"),
        ("1234567890", "postal code cannot have 0 or 2 in its first five digits"),
        ("0193653471", "postal code cannot have 0 or 2 in its first five digits"),
        ("1193053471", "postal code cannot have 0 or 2 in its first five digits"),
        ("1193553471", "postal code cannot have 5 as its fifth digit"),
        ("1193653421", "postal code cannot have 2 in its last five digits"),
        ("1193623471", "postal code cannot have 2 in its last five digits"),
        ("3333653471", "postal code cannot start with four identical digits"),
        ("9999999999", "postal code cannot start with four identical digits"),
    ],
)
def test_parse_postal_code_invalid(raw: str, message: str) -> None:
    error = invalid(parse_postal_code, raw)
    assert error.field == "postalCode"
    assert error.message == message


def test_parse_postal_code_reports_the_callers_field() -> None:
    assert invalid(parse_postal_code, "1", field="address.postalCode").field == (
        "address.postalCode"
    )


# --- mobile -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "9121234567",
        "+98 912 123 4567",
        "0912-123-4567",
        "+98 0912 123 4567",  # trunk 0 kept after the country code
        "0098 0912 123 4567",
        "980912 123 4567",  # 98 + trunk 0: read like +98 0912 (DESIGN §5)
        "\u202a+98 912 123 4567\u202c",  # copied from a phone: LRE … PDF around the number
        "\u2066+98 912 123 4567\u2069",  # LRI … PDI
        "\u200e۰۹۱۲ ۱۲۳ ۴۵۶۷\u200f",  # LRM / RLM
        "+98 ９１２ １２３ ４５６７",  # full-width digits
        "＋９８９１２１２３４５６７",  # full-width plus too
        "0912\u2011123\u20114567",  # non-breaking hyphens
        "09\u00a012\u00a0123\u00a04567",  # no-break spaces
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
        " 0912 123 45 67 ",
    ],
)
def test_parse_mobile_valid(raw: str) -> None:
    assert parse_mobile(raw) == "09121234567"


def test_98_is_a_prefix_only_on_twelve_digits() -> None:
    # Ten digits starting 98 are the national form of 098…, not a country code plus 8 digits.
    assert parse_mobile("9812345678") == "09812345678"
    assert parse_mobile("989812345678") == "09812345678"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "mobile is required"),
        ("\u202a\u202c", "mobile is required"),
        ("-", "mobile must be 09 followed by 9 digits"),
        (" - ", "mobile must be 09 followed by 9 digits"),
        ("+98-", "mobile must be 09 followed by 9 digits"),
        ("+15551234567", "mobile must be an Iranian number (+98)"),
        ("+", "mobile must be an Iranian number (+98)"),
        ("0912abc4567", "mobile must contain only digits"),
        ("0912+1234567", "mobile must contain only digits"),
        ("+98", "mobile must be 09 followed by 9 digits"),
        ("02112345678", "mobile must be 09 followed by 9 digits"),  # Tehran landline
        ("0912123456", "mobile must be 09 followed by 9 digits"),
        ("091212345678", "mobile must be 09 followed by 9 digits"),
        ("00912123456", "mobile must be 09 followed by 9 digits"),
        ("8121234567", "mobile must be 09 followed by 9 digits"),
    ],
)
def test_parse_mobile_invalid(raw: str, message: str) -> None:
    error = invalid(parse_mobile, raw)
    assert error.field == "mobile"
    assert error.message == message


def test_parse_mobile_reports_the_callers_field() -> None:
    assert invalid(parse_mobile, "1", field="contact.mobile").field == "contact.mobile"


@given(st.text(alphabet=DIGITS, min_size=9, max_size=9), st.sampled_from(["09", "+989", "9"]))
def test_every_mobile_form_normalises_to_09(rest: str, prefix: str) -> None:
    assert parse_mobile(prefix + rest) == "09" + rest
