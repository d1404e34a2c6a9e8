"""Which bank a Sheba belongs to, from the three-digit bank code the Central Bank assigns.

A Sheba is "IR", two check digits, then the bank code (DESIGN §5: digits 5–7 of the whole
number), so the bank is known offline the moment the check digits hold. The table is the
Central Bank's list of codes. Banks since merged into another (several into Sepah) keep their
rows: Shebas issued under their codes are still in people's records and still name the bank that
issued them. A code missing here is not an invalid Sheba, only a bank this table does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BANKS", "Bank", "bank_for_code"]


@dataclass(frozen=True, slots=True)
class Bank:
    """A bank or credit institution as its Sheba bank code names it."""

    code: str = field(metadata={"description": "Three-digit bank code, as in the Sheba."})
    name_fa: str = field(metadata={"description": "Name in Persian."})
    name_en: str = field(metadata={"description": "Name in English."})


BANKS: dict[str, Bank] = {
    bank.code: bank
    for bank in (
        Bank("010", "بانک مرکزی جمهوری اسلامی ایران", "Central Bank of Iran"),
        Bank("011", "بانک صنعت و معدن", "Bank of Industry and Mine"),
        Bank("012", "بانک ملت", "Bank Mellat"),
        Bank("013", "بانک رفاه کارگران", "Refah Kargaran Bank"),
        Bank("014", "بانک مسکن", "Bank Maskan"),
        Bank("015", "بانک سپه", "Bank Sepah"),
        Bank("016", "بانک کشاورزی", "Bank Keshavarzi"),
        Bank("017", "بانک ملی ایران", "Bank Melli Iran"),
        Bank("018", "بانک تجارت", "Tejarat Bank"),
        Bank("019", "بانک صادرات ایران", "Bank Saderat Iran"),
        Bank("020", "بانک توسعه صادرات ایران", "Export Development Bank of Iran"),
        Bank("021", "پست بانک ایران", "Post Bank of Iran"),
        Bank("022", "بانک توسعه تعاون", "Tose'e Ta'avon Bank"),
        Bank("051", "موسسه اعتباری توسعه", "Tose'e Credit Institution"),
        Bank("052", "بانک قوامین", "Ghavamin Bank"),
        Bank("053", "بانک کارآفرین", "Karafarin Bank"),
        Bank("054", "بانک پارسیان", "Parsian Bank"),
        Bank("055", "بانک اقتصاد نوین", "Eghtesad Novin Bank"),
        Bank("056", "بانک سامان", "Saman Bank"),
        Bank("057", "بانک پاسارگاد", "Bank Pasargad"),
        Bank("058", "بانک سرمایه", "Sarmayeh Bank"),
        Bank("059", "بانک سینا", "Sina Bank"),
        Bank("060", "بانک قرض‌الحسنه مهر ایران", "Mehr Iran Gharzolhasaneh Bank"),
        Bank("061", "بانک شهر", "Shahr Bank"),
        Bank("062", "بانک آینده", "Ayandeh Bank"),
        Bank("063", "بانک انصار", "Ansar Bank"),
        Bank("064", "بانک گردشگری", "Tourism Bank"),
        Bank("065", "بانک حکمت ایرانیان", "Hekmat Iranian Bank"),
        Bank("066", "بانک دی", "Dey Bank"),
        Bank("069", "بانک ایران زمین", "Iran Zamin Bank"),
        Bank("070", "بانک قرض‌الحسنه رسالت", "Resalat Gharzolhasaneh Bank"),
        Bank("073", "موسسه اعتباری کوثر", "Kosar Credit Institution"),
        Bank("075", "موسسه اعتباری ملل", "Melal Credit Institution"),
        Bank("078", "بانک خاورمیانه", "Middle East Bank"),
        Bank("079", "بانک مهر اقتصاد", "Mehr Eqtesad Bank"),
        Bank("080", "موسسه اعتباری نور", "Noor Credit Institution"),
        Bank("095", "بانک مشترک ایران و ونزوئلا", "Iran-Venezuela Bi-National Bank"),
    )
}
"""Bank code → bank."""


def bank_for_code(code: str) -> Bank | None:
    """The bank with this three-digit Sheba bank code, or None when the table has no such code."""
    return BANKS.get(code)
