"""Answers an agency gives when it is not answering normally.

A 500 comes from the agency application itself, so it speaks the agency's format (JSON, a SOAP
fault or a plain XML error); 502/503/504 come from the reverse proxy in front of it (nginx-style
HTML); the maintenance page is the Persian HTML page Iranian agencies put up during updates.
"""

from __future__ import annotations

import json
from typing import Literal
from xml.sax.saxutils import escape

from aiohttp import web

from sandbox.spelling import ZWNJ

WireStyle = Literal["json", "soap", "xml"]

_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}

SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:sab="urn:sabtahval:inquiry">'
    "<soap:Body>{body}</soap:Body></soap:Envelope>"
)

MAINTENANCE_MESSAGE = f"سامانه در حال به{ZWNJ}روزرسانی است"
_MAINTENANCE_HTML = f"""<!DOCTYPE html>
<html lang="fa" dir="rtl">
<head><meta charset="utf-8"><title>{MAINTENANCE_MESSAGE}</title></head>
<body style="font-family: Tahoma, sans-serif; text-align: center; margin-top: 10%">
<h1>{MAINTENANCE_MESSAGE}</h1>
<p>کاربر گرامی، به دلیل به{ZWNJ}روزرسانی سامانه، خدمات به طور موقت در دسترس نیست.</p>
<p>لطفاً ساعاتی دیگر مراجعه فرمایید.</p>
</body>
</html>
"""


def soap_fault(code: str, message: str, status: int = 500) -> web.Response:
    """A SOAP 1.1 fault; `code` is soap:Client (bad request) or soap:Server."""
    body = (
        f"<soap:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soap:Fault>"
    )
    return web.Response(
        status=status,
        body=SOAP_ENVELOPE.format(body=body).encode(),
        content_type="text/xml",
        charset="utf-8",
    )


def xml_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """`<Error><Code>…</Code><Message>…</Message></Error>`, the land registry's error answer."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return web.Response(
        status=status,
        body=body.encode("utf-8"),
        content_type="application/xml",
        charset="utf-8",
        headers=headers,
    )


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"error": message}).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def server_error(style: WireStyle, status: int) -> web.Response:
    """A flaky failure: 500 from the application, 502/503/504 from the proxy."""
    if status == 500:
        if style == "soap":
            return soap_fault("soap:Server", "Internal error: backend unavailable")
        if style == "xml":
            return xml_error(500, "INTERNAL", "internal server error")
        return json_error(500, "internal server error")
    reason = _REASONS[status]
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=html, content_type="text/html")


def too_many_requests(style: WireStyle, retry_after_s: int) -> web.Response:
    headers = {"Retry-After": str(retry_after_s)}
    if style == "soap":
        response = soap_fault("soap:Server", "Too many requests", status=429)
        response.headers.update(headers)
        return response
    if style == "xml":
        return xml_error(429, "TOO_MANY_REQUESTS", "too many requests", headers)
    return json_error(429, "too many requests", headers)


def maintenance(retry_after_s: int) -> web.Response:
    return web.Response(
        status=503,
        text=_MAINTENANCE_HTML,
        content_type="text/html",
        charset="utf-8",
        headers={"Retry-After": str(retry_after_s)},
    )
