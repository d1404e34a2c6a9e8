"""Civil registry (ثبت احوال): identity over a SOAP 1.1 envelope (docs/agencies.md)."""

from __future__ import annotations

from typing import Literal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from pydantic import field_validator

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import JalaliDate, PascalWire, PersianText
from domain.errors import AgencyNotFound
from domain.models import Gender, Person

__all__ = ["CivilRegistryConnector"]

_NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "sab": "urn:sabtahval:inquiry"}
_ACTION = "urn:sabtahval:inquiry/GetPersonInfo"
_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:sab="urn:sabtahval:inquiry"><soap:Body><sab:GetPersonInfo>'
    "<sab:NationalCode>{nc}</sab:NationalCode>"
    "</sab:GetPersonInfo></soap:Body></soap:Envelope>"
)


class PersonWire(PascalWire):
    """The `sab:Person` element, field by field."""

    national_code: str
    first_name: PersianText
    last_name: PersianText
    father_name: PersianText
    birth_date: JalaliDate
    birth_place: PersianText
    gender: Literal["1", "2"]
    is_alive: bool
    death_date: JalaliDate | None = None

    @field_validator("death_date", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None


class InquiryResult(PascalWire):
    """`sab:Result`: a result code and, when found, the person."""

    result_code: int
    person: PersonWire | None = None

    @classmethod
    def from_xml(cls, body: bytes) -> InquiryResult:
        """Parse the SOAP response with defusedxml (no entity expansion, no external DTDs)."""
        root = ElementTree.fromstring(body)
        result = root.find("soap:Body/sab:GetPersonInfoResponse/sab:Result", _NS)
        if result is None:
            raise ValueError("no sab:Result in the SOAP body")
        person = result.find("sab:Person", _NS)
        return cls.model_validate(
            {
                "ResultCode": _text(result, "ResultCode"),
                "Person": None if person is None else {c.tag.split("}")[1]: c.text for c in person},
            }
        )


def _text(parent: Element, name: str) -> str | None:
    child = parent.find(f"sab:{name}", _NS)
    return None if child is None else child.text


def _read_person(body: bytes) -> Person:
    """The SOAP answer as a domain person; result code 1 is the registry's "no such person"."""
    result = InquiryResult.from_xml(body)
    if result.result_code == 1:
        raise AgencyNotFound(
            CivilRegistryConnector.agency_id, "the civil registry holds no such person"
        )
    if result.result_code != 0 or result.person is None:
        raise ValueError(f"unexpected ResultCode {result.result_code}")
    wire = result.person
    return Person(
        national_code=wire.national_code,
        first_name=wire.first_name,
        last_name=wire.last_name,
        father_name=wire.father_name,
        birth_date=wire.birth_date,
        birth_place=wire.birth_place,
        gender=Gender.MALE if wire.gender == "1" else Gender.FEMALE,
        alive=wire.is_alive,
        death_date=wire.death_date,
    )


class CivilRegistryConnector(AgencyConnector):
    """Identity of a citizen; identities rarely change, so they are kept for days."""

    agency_id = "civil-registry"
    name_fa = "ثبت احوال"
    name_en = "Civil Registration"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=86_400, stale_ttl=7 * 86_400)

    @operation("person")
    async def fetch_person(self, national_code: str, *, deadline: Deadline) -> Person:
        return await self.request(
            "POST",
            "/services/IdentityInquiry",
            data=_REQUEST.format(nc=national_code).encode(),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{_ACTION}"'},
            parse=_read_person,
            deadline=deadline,
        )
