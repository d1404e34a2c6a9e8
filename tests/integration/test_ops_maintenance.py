"""One-off maintenance windows through the ops API, over real HTTP to the real sandbox.

`scheduleMaintenance` puts an agency in a planned window: the gateway stops calling it, the
fleet's state turns MAINTENANCE (not DOWN, no incident), and ops see the window as the agency's
current one; `cancelMaintenance` ends it. Bad input is refused with the argument named and
nothing stored; without the ops scope nothing of it is served.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox import PERSONAS
from schema.error_codes import message_fa
from tests.support.gateway import RunningGateway, running_gateway

PROBES = {"interval_s": 0.25, "timeout_s": 0.125}
WITHIN_S = 6.0
TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))

WINDOW = "{ startsAt endsAt origin note }"
AGENCY = f"agency {{ id maintenance {WINDOW} scheduledMaintenance {WINDOW} }}"
SCHEDULE = f"""mutation(
  $agency: String!, $startsAt: DateTime!, $endsAt: DateTime!, $note: String!
) {{
  scheduleMaintenance(agency: $agency, startsAt: $startsAt, endsAt: $endsAt, note: $note) {{
    appliedTo window {WINDOW} {AGENCY} }} }}"""
CANCEL = f"""mutation($agency: String!, $startsAt: DateTime!) {{
  cancelMaintenance(agency: $agency, startsAt: $startsAt) {{
    appliedTo window {WINDOW} {AGENCY} }} }}"""
STATUS = f"""{{ agencies {{
  id state incidents {{ id startedAt }} maintenance {WINDOW} scheduledMaintenance {WINDOW} }} }}"""
ADDRESS = "{ me { address { city } } }"


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway(probes=PROBES) as gw:
        yield gw


def _at(seconds_from_now: float) -> str:
    """A moment as ops would type it: whole seconds, Tehran offset."""
    return dt.datetime.fromtimestamp(int(time.time() + seconds_from_now), TEHRAN).isoformat()


@dataclass(frozen=True)
class _Later:
    """A moment given as seconds from when the test runs, not from when it was collected (a
    full run reaches these tests minutes after collection)."""

    seconds_from_now: float

    def moment(self) -> str:
        return _at(self.seconds_from_now)


def _same(a: str, b: str) -> bool:
    return dt.datetime.fromisoformat(a) == dt.datetime.fromisoformat(b)


async def _ops(gw: RunningGateway, query: str, **variables: Any) -> dict[str, Any]:
    token = gw.service_token("ops-console", ["ops"])
    status, body = await gw.query(query, token=token, variables=variables or None)
    assert status == 200, body
    return body


async def _agency(gw: RunningGateway, agency: str) -> dict[str, Any]:
    body = await _ops(gw, STATUS)
    return {a["id"]: a for a in body["data"]["agencies"]}[agency]


async def _until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    started = time.monotonic()
    while not (answer := await check()):
        if time.monotonic() - started > WITHIN_S:
            pytest.fail(f"not within {WITHIN_S} s: {what}")
        await asyncio.sleep(0.05)
    return answer


async def test_a_window_set_by_ops_is_maintenance_until_cancelled(gateway: RunningGateway) -> None:
    starts, ends = _at(0), _at(3600)
    body = await _ops(
        gateway, SCHEDULE, agency="post", startsAt=starts, endsAt=ends, note="مهاجرت پایگاه داده"
    )
    assert "errors" not in body, body
    scheduled = body["data"]["scheduleMaintenance"]
    assert scheduled["appliedTo"] == "INSTANCE"  # the embedded default keeps windows in memory
    window = scheduled["window"]
    assert _same(window["startsAt"], starts) and _same(window["endsAt"], ends)
    assert window["origin"] == "OPS" and window["note"] == "مهاجرت پایگاه داده"
    assert scheduled["agency"]["maintenance"] == window  # in it now
    assert scheduled["agency"]["scheduledMaintenance"] == [window]

    gateway.sandbox.reset_calls()
    _, answer = await gateway.query(ADDRESS, token=gateway.token(PERSONAS["complete"]))
    assert answer["errors"][0]["extensions"]["code"] == "AGENCY_MAINTENANCE"
    assert gateway.sandbox.calls("post") == 0

    async def in_maintenance() -> dict[str, Any] | None:
        post = await _agency(gateway, "post")
        return post if post["state"] == "MAINTENANCE" else None

    post = await _until(in_maintenance, "post MAINTENANCE")
    started = dt.datetime.fromisoformat(window["startsAt"])
    during = [i for i in post["incidents"] if dt.datetime.fromisoformat(i["startedAt"]) >= started]
    assert during == []  # planned: not an incident (what load did before it is not this test's)
    assert post["maintenance"] == window

    body = await _ops(gateway, CANCEL, agency="post", startsAt=window["startsAt"])
    assert "errors" not in body, body
    cancelled = body["data"]["cancelMaintenance"]
    assert cancelled["window"] == window
    assert cancelled["agency"]["maintenance"] is None
    assert cancelled["agency"]["scheduledMaintenance"] == []

    _, answer = await gateway.query(ADDRESS, token=gateway.token(PERSONAS["complete"]))
    assert "errors" not in answer, answer
    assert gateway.sandbox.calls("post") == 1

    async def up_again() -> bool:
        return (await _agency(gateway, "post"))["state"] == "UP"

    await _until(up_again, "post UP after the window was cancelled")

    body = await _ops(gateway, CANCEL, agency="post", startsAt=window["startsAt"])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"agency": "water", "startsAt": _Later(600), "endsAt": _Later(300)}, "endsAt"),
        ({"agency": "water", "startsAt": _Later(-7200), "endsAt": _Later(-3600)}, "endsAt"),
        ({"agency": "water", "startsAt": _Later(-3600), "endsAt": _Later(600)}, "startsAt"),
        ({"agency": "water", "startsAt": _Later(60), "endsAt": _Later(60 + 7 * 3600)}, "endsAt"),
        (
            {
                "agency": "water",
                "startsAt": _Later(200 * 86400),
                "endsAt": _Later(200 * 86400 + 60),
            },
            "startsAt",
        ),
        ({"agency": "nope", "startsAt": _Later(60), "endsAt": _Later(600)}, "agency"),
        ({"agency": "water", "startsAt": "2030-01-01T02:00:00", "endsAt": _Later(600)}, "startsAt"),
        (
            {"agency": "water", "startsAt": _Later(60), "endsAt": _Later(600), "note": "one\ntwo"},
            "note",
        ),
        (
            {"agency": "water", "startsAt": _Later(60), "endsAt": _Later(600), "note": "x" * 201},
            "note",
        ),
    ],
    ids=[
        "ends before it starts",
        "already over",
        "starts in the past",
        "longer than 6 h",
        "more than 90 days ahead",
        "unknown agency",
        "time without its offset",
        "note of two lines",
        "note too long",
    ],
)
async def test_a_window_ops_may_not_set_is_refused_and_nothing_is_stored(
    gateway: RunningGateway, variables: dict[str, Any], field: str
) -> None:
    resolved = {k: v.moment() if isinstance(v, _Later) else v for k, v in variables.items()}
    body = await _ops(gateway, SCHEDULE, **{"note": "", **resolved})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    assert error["extensions"]["field"] == field, error
    agencies = (await _ops(gateway, STATUS))["data"]["agencies"]
    assert all(a["scheduledMaintenance"] == [] for a in agencies)


async def test_overlapping_windows_of_one_agency_are_refused(gateway: RunningGateway) -> None:
    first = await _ops(
        gateway, SCHEDULE, agency="tax", startsAt=_at(600), endsAt=_at(1800), note=""
    )
    assert "errors" not in first, first
    body = await _ops(
        gateway, SCHEDULE, agency="tax", startsAt=_at(1200), endsAt=_at(2400), note=""
    )
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_INPUT",
        "retryable": False,
        "field": "startsAt",
        "messageFa": message_fa({"code": "INVALID_INPUT"}),
    }
    tax = await _agency(gateway, "tax")
    assert tax["scheduledMaintenance"] == [first["data"]["scheduleMaintenance"]["window"]]
    assert tax["maintenance"] is None and tax["state"] == "UP"  # not yet


@pytest.mark.parametrize("who", ["citizen", "caseworker", "anonymous"])
async def test_without_the_ops_scope_no_window_is_set_or_removed(
    gateway: RunningGateway, who: str
) -> None:
    token = {
        "citizen": gateway.token(PERSONAS["complete"]),
        "caseworker": gateway.service_token("caseworker-app", ["citizen:read"]),
        "anonymous": None,
    }[who]
    expected = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
    variables = {"agency": "gas", "startsAt": _at(0), "endsAt": _at(600), "note": ""}
    _, body = await gateway.query(SCHEDULE, token=token, variables=variables)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == expected

    kept = await _ops(gateway, SCHEDULE, **variables)
    starts = kept["data"]["scheduleMaintenance"]["window"]["startsAt"]
    _, body = await gateway.query(
        CANCEL, token=token, variables={"agency": "gas", "startsAt": starts}
    )
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == expected
    assert (await _agency(gateway, "gas"))["scheduledMaintenance"] != []


async def test_each_change_of_a_window_is_one_warning_naming_the_ops_client(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The calendar and the resolver both logged each change at WARNING: one line is enough,
    the one that says which ops client made it; the calendar's is DEBUG."""
    caplog.set_level(logging.DEBUG)
    body = await _ops(
        gateway, SCHEDULE, agency="post", startsAt=_at(600), endsAt=_at(1200), note="x"
    )
    window = body["data"]["scheduleMaintenance"]["window"]
    await _ops(gateway, CANCEL, agency="post", startsAt=window["startsAt"])

    def about_post(level: int) -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.levelno == level and "maintenance" in r.getMessage() and "post" in r.getMessage()
        ]

    warnings = about_post(logging.WARNING)
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert all(r.getMessage().endswith(" by ops-console") for r in warnings)
    assert [getattr(r, "scheduled_by", None) for r in warnings] == ["ops-console", None]
    assert [getattr(r, "cancelled_by", None) for r in warnings] == [None, "ops-console"]
    assert len(about_post(logging.DEBUG)) >= 2  # the calendar's lines are still there
