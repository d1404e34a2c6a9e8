"""Shahkar (شاهکار): whether a mobile number is registered to a national code."""

from __future__ import annotations

import functools
from typing import Literal

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire
from domain.errors import AgencyUnavailable
from domain.models import MobileCheck, MobileMatch

__all__ = ["ShahkarConnector"]

_INTERNAL_ERROR = 9
_RESULTS: dict[int, MobileMatch] = {
    0: MobileMatch.MATCH,
    1: MobileMatch.MISMATCH,
    2: MobileMatch.NOT_REGISTERED,
}


class MatchWire(CamelWire):
    """The match answer: a result code (any other value than these is malformed)."""

    result_code: Literal[0, 1, 2, 9]
    comment: str | None = None


def _to_domain(wire: MatchWire, mobile: str) -> MobileCheck:
    result = _RESULTS.get(wire.result_code)
    if result is None:
        raise ValueError(f"resultCode {wire.result_code} carries no answer")
    return MobileCheck(mobile=mobile, result=result)


class ShahkarConnector(AgencyConnector):
    """A SIM can change hands, but rarely within hours: answers are kept for an hour and served
    stale for six while Shahkar is down."""

    agency_id = "shahkar"
    name_fa = "شاهکار"
    name_en = "Shahkar"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=3600, stale_ttl=6 * 3600)

    @operation("mobile-check")
    async def check_mobile(
        self, national_code: str, mobile: str, *, deadline: Deadline
    ) -> MobileCheck:
        return await self.post_json(
            "/shahkar/v1/match",
            {"nationalCode": national_code, "mobile": mobile},
            MatchWire,
            functools.partial(_to_domain, mobile=mobile),
            check=self._check,
            deadline=deadline,
        )

    def _check(self, wire: MatchWire) -> None:
        if wire.result_code == _INTERNAL_ERROR:
            raise AgencyUnavailable(
                self.agency_id, "shahkar reported an internal error", transient=True
            )
