"""The one table from the error tree (`domain.errors`) to GraphQL `extensions.code`, and from
each code to the sentence a citizen reads (`extensions.messageFa`).

A class's code is found by walking its MRO, so a subclass without its own entry inherits its
parent's. Anything that is not a `PanjerehError` is an internal fault and is shown to the client
only as `INTERNAL` with a fixed message.

Every code has one Persian template in `MESSAGES_FA` (see `schema.messages_fa` for how a
template reads): filled from the error's extensions (the agency's Persian name, the wait before
trying again, the time an agency in maintenance is expected back) and, for an agency's part
served from a stale copy, that copy's age. An agency in extensions is named beside its id
(`agencyNameFa`, `agencyNameEn`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from domain import errors as e
from domain.agencies import names_of
from schema import messages_fa as fa

__all__ = ["INTERNAL", "MESSAGES_FA", "code_for", "error_extensions", "message_fa"]

INTERNAL = "INTERNAL"

_CODES: dict[type[e.PanjerehError], str] = {
    e.AgencyUnavailable: "AGENCY_UNAVAILABLE",
    e.AgencyTimeout: "AGENCY_TIMEOUT",
    e.CircuitOpen: "CIRCUIT_OPEN",
    e.AgencyInMaintenance: "AGENCY_MAINTENANCE",
    e.AgencyRateLimited: "RATE_LIMITED",
    e.AgencyBadResponse: "AGENCY_BAD_RESPONSE",
    e.AgencyNotFound: "NOT_FOUND",
    e.NotFound: "NOT_FOUND",
    e.InvalidInput: "INVALID_INPUT",
    e.Unauthenticated: "UNAUTHENTICATED",
    e.Forbidden: "FORBIDDEN",
    e.RateLimited: "RATE_LIMITED",
    e.QueryTooComplex: "QUERY_TOO_COMPLEX",
    e.PersistedQueryNotFound: "PERSISTED_QUERY_NOT_FOUND",
    e.PersistedQueryNotSupported: "PERSISTED_QUERY_NOT_SUPPORTED",
    e.PersistedQueryNotInList: "PERSISTED_QUERY_NOT_IN_LIST",
    e.BadRequest: "BAD_REQUEST",
    e.InvalidDocument: "GRAPHQL_VALIDATION_FAILED",
    e.DocumentSyntaxError: "GRAPHQL_PARSE_FAILED",
}

_LATER: fa.Clause = (
    "اطلاعات {age} پیش نمایش داده می‌شود",
    "{retry} دیگر دوباره تلاش کنید",
    "کمی بعد دوباره تلاش کنید",
)
"""How an agency's failure ends: the age of the copy shown instead, else when to try again."""
_UPDATE_APP: fa.Clause = ("لطفاً برنامه را به‌روز کنید",)

MESSAGES_FA: dict[str, fa.Template] = {
    "AGENCY_UNAVAILABLE": (
        ("سامانه {agency} موقتاً در دسترس نیست", "سامانه مورد نیاز موقتاً در دسترس نیست"),
        _LATER,
    ),
    "AGENCY_TIMEOUT": (
        ("سامانه {agency} به‌موقع پاسخ نداد", "سامانه مورد نیاز به‌موقع پاسخ نداد"),
        _LATER,
    ),
    "CIRCUIT_OPEN": (
        ("سامانه {agency} موقتاً در دسترس نیست", "سامانه مورد نیاز موقتاً در دسترس نیست"),
        _LATER,
    ),
    "AGENCY_MAINTENANCE": (
        (
            "سامانه {agency} تا {until} در دست تعمیر است",
            "سامانه {agency} در دست تعمیر است",
            "سامانه مورد نیاز در دست تعمیر است",
        ),
        ("اطلاعات {age} پیش نمایش داده می‌شود",),
    ),
    "AGENCY_BAD_RESPONSE": (
        ("پاسخ سامانه {agency} قابل استفاده نبود", "پاسخ سامانه مورد نیاز قابل استفاده نبود"),
        _LATER,
    ),
    "RATE_LIMITED": (
        (
            "سامانه {agency} اکنون بیش از توان خود درخواست دارد",
            "تعداد درخواست‌های شما از حد مجاز گذشته است",
        ),
        _LATER,
    ),
    "NOT_FOUND": (("سامانه {agency} اطلاعاتی در این باره ندارد", "موردی پیدا نشد"),),
    "INVALID_INPUT": (("مقدار واردشده درست نیست",), ("آن را بررسی کنید و دوباره بفرستید",)),
    "UNAUTHENTICATED": (("لطفاً دوباره وارد حساب کاربری خود شوید",),),
    "FORBIDDEN": (
        (
            "برای دیدن این اطلاعات باید با روشی مطمئن‌تر (سطح {level}) وارد شوید",
            "اجازه دسترسی به این اطلاعات را ندارید",
        ),
    ),
    "QUERY_TOO_COMPLEX": (("این درخواست بیش از اندازه بزرگ است",), ("آن را کوچک‌تر کنید",)),
    "PERSISTED_QUERY_NOT_FOUND": (("درخواست ذخیره‌شده پیدا نشد",), ("دوباره تلاش کنید",)),
    "PERSISTED_QUERY_NOT_SUPPORTED": (
        ("درخواست ذخیره‌شده پذیرفته نمی‌شود",),
        ("دوباره تلاش کنید",),
    ),
    "PERSISTED_QUERY_NOT_IN_LIST": (("این درخواست مجاز نیست",), _UPDATE_APP),
    "BAD_REQUEST": (("درخواست نادرست است",), _UPDATE_APP),
    "GRAPHQL_PARSE_FAILED": (("درخواست خوانا نیست",), _UPDATE_APP),
    "GRAPHQL_VALIDATION_FAILED": (("درخواست با این نسخه سامانه سازگار نیست",), _UPDATE_APP),
    INTERNAL: (("خطایی در سامانه رخ داد",), ("کمی بعد دوباره تلاش کنید",)),
}
"""Code → the sentence a citizen reads; every code the gateway gives has one (a test checks).
`AGENCY_MAINTENANCE` (with `expectedBackAt`) is the code of an agency in a maintenance window."""


def code_for(error_type: type[BaseException]) -> str:
    """The GraphQL code of an error class: its own entry or its nearest ancestor's."""
    for cls in error_type.__mro__:
        code = _CODES.get(cls)  # type: ignore[call-overload]
        if code is not None:
            return code
    return INTERNAL


def error_extensions(exc: e.PanjerehError, *, stale_age_s: float | None = None) -> dict[str, Any]:
    """`extensions` for a client-visible error, and its `messageFa` built from them last (with
    the age of the stale copy served instead, when there is one)."""
    extensions = _extensions(exc)
    extensions["messageFa"] = message_fa(extensions, stale_age_s=stale_age_s)
    return extensions


def _extensions(exc: e.PanjerehError) -> dict[str, Any]:
    """code, retryable, and agency (with its names)/field/limit/retry-after/required level/
    expected-back time where they apply."""
    extensions: dict[str, Any] = {"code": code_for(type(exc)), "retryable": exc.retryable}
    if isinstance(exc, e.AgencyError):
        extensions["agency"] = exc.agency
        names = names_of(exc.agency)
        if names is not None:
            extensions["agencyNameFa"], extensions["agencyNameEn"] = names.fa, names.en
    if isinstance(exc, e.InvalidInput):
        extensions["field"] = exc.field
    if isinstance(exc, e.QueryTooComplex) and exc.limit is not None:
        extensions["limit"] = exc.limit
        extensions["max"] = exc.maximum
    if isinstance(exc, e.InsufficientLevel):
        extensions["requiredLevel"] = exc.required_level
    if isinstance(exc, e.AgencyInMaintenance):
        extensions["expectedBackAt"] = exc.expected_back_at.isoformat()
    if exc.retry_after is not None:
        extensions["retryAfterSeconds"] = max(0, math.ceil(exc.retry_after))
    return extensions


def message_fa(
    extensions: Mapping[str, Any],
    *,
    stale_age_s: float | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The Persian sentence for an error's `extensions` (its code's template, filled from them);
    an unknown code reads as INTERNAL's."""
    agency = extensions.get("agency")
    names = names_of(agency) if isinstance(agency, str) else None
    template = MESSAGES_FA.get(str(extensions.get("code")), MESSAGES_FA[INTERNAL])
    slots = fa.slots_of(
        agency_fa=names.fa if names is not None else None,
        retry_after_s=_number(extensions.get("retryAfterSeconds")),
        stale_age_s=stale_age_s,
        expected_back_at=_moment(extensions.get("expectedBackAt")),
        required_level=_whole(extensions.get("requiredLevel")),
        now=now,
    )
    return fa.render(template, slots)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(value: Any) -> dt.datetime | None:
    """`expectedBackAt` as an aware datetime: a datetime, ISO 8601 text or unix seconds."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    elif (number := _number(value)) is not None:
        moment = dt.datetime.fromtimestamp(number, dt.UTC)
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
