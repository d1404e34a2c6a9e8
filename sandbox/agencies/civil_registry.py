"""ثبت احوال: identity inquiry over SOAP 1.1 (the one agency that is not JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.typedefs import Middleware
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sandbox.agencies.wire import CACHE_SIZE
from sandbox.ids import is_valid_national_code
from sandbox.jalali import compact
from sandbox.pages import SOAP_ENVELOPE, soap_fault
from sandbox.people import Person, person_for

AGENCY_ID = "civil-registry"
STYLE = "soap"
PATH = "/services/IdentityInquiry"
NAMESPACE = "urn:sabtahval:inquiry"
SOAP_ACTION = f"{NAMESPACE}/GetPersonInfo"


def _person_xml(person: Person) -> str:
    death = (
        f"<sab:DeathDate>{compact(person.death_date)}</sab:DeathDate>"
        if person.death_date is not None
        else "<sab:DeathDate/>"
    )
    fields = (
        ("NationalCode", person.national_code),
        ("FirstName", person.first_name),
        ("LastName", person.last_name),
        ("FatherName", person.father_name),
        ("BirthDate", compact(person.birth_date)),
        ("BirthPlace", person.birth_place),
        ("Gender", "1" if person.gender == "male" else "2"),
        ("IsAlive", "true" if person.alive else "false"),
    )
    inner = "".join(f"<sab:{name}>{escape(value)}</sab:{name}>" for name, value in fields)
    return f"<sab:Person>{inner}{death}</sab:Person>"


@lru_cache(maxsize=CACHE_SIZE)
def _answer(code: str) -> bytes:
    """The envelope for a valid code: ResultCode 0 with the person, or 1 when unknown."""
    person = person_for(code)
    if person.known_to_registry:
        result = f"<sab:ResultCode>0</sab:ResultCode>{_person_xml(person)}"
    else:
        result = "<sab:ResultCode>1</sab:ResultCode>"
    body = (
        f"<sab:GetPersonInfoResponse><sab:Result>{result}</sab:Result></sab:GetPersonInfoResponse>"
    )
    return SOAP_ENVELOPE.format(body=body).encode("utf-8")


def _requested_code(payload: bytes) -> str | None:
    """The NationalCode of a GetPersonInfo request, or None if the request is not one."""
    try:
        root = fromstring(payload)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    element = root.find(f".//{{{NAMESPACE}}}GetPersonInfo/{{{NAMESPACE}}}NationalCode")
    if element is None:
        return None
    return (element.text or "").strip()


async def get_person_info(request: web.Request) -> web.Response:
    action = request.headers.get("SOAPAction", "").strip().strip('"')
    if action != SOAP_ACTION:
        return soap_fault("soap:Client", f'SOAPAction must be "{SOAP_ACTION}"')
    code = _requested_code(await request.read())
    if code is None:
        return soap_fault("soap:Client", "request is not a GetPersonInfo envelope")
    if not is_valid_national_code(code):
        return soap_fault("soap:Client", "invalid national code")
    return web.Response(body=_answer(code), content_type="text/xml", charset="utf-8")


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_post(PATH, get_person_info)
    return app
