"""Rate-limit logic without sockets: who is counted under which address, how REDIS_URL maps onto
`limits` storages, moving windows with their memory fallback, budgets and lookup counting."""

from __future__ import annotations

import asyncio
import logging
from ipaddress import ip_network
from typing import Any

import pytest
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisSentinelStorage
from limits.aio.storage import RedisStorage as LimitsRedisStorage
from pydantic import ValidationError

from auth.principal import Principal, PrincipalKind
from domain.errors import QueryTooComplex, RateLimited
from domain.sourced import Fetched
from observability.metrics import Metrics
from ratelimits.client_ip import client_address
from ratelimits.config import CallerLimits, CitizenLimits, RateLimits, parse_limits
from ratelimits.limiter import RateLimiter
from ratelimits.storage import close_storage, limits_uri, redis_storage
from ratelimits.windows import Windows
from resolvers.context import RequestLoaders
from settings import Settings

CODE = "0012345679"
PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


# -- who an anonymous caller is -----------------------------------------------------------------


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], []) == "203.0.113.7"
    assert client_address("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"


def test_behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client forged the first entry; the proxies appended the real one and each other.
    header = ["6.6.6.6, 198.51.100.9", "10.1.1.1"]
    assert client_address("10.0.0.2", header, PROXIES) == "198.51.100.9"


def test_a_malformed_hop_stops_at_the_proxy_that_passed_it_on() -> None:
    assert client_address("10.0.0.2", ["not-an-ip, 10.0.0.3"], PROXIES) == "10.0.0.3"
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_ipv6_clients_are_counted_by_their_64_block() -> None:
    first = client_address("2001:db8:1:2::1", [], [])
    assert first == client_address("2001:db8:1:2:ffff::9", [], []) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1", [], []) != first
    assert client_address("::ffff:192.0.2.1", [], []) == "192.0.2.1"
    assert client_address(None, [], []) == "unknown"


# -- settings ---------------------------------------------------------------------------------


def test_limits_are_settings_read_from_nested_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PANJEREH_RATE_LIMITS__CITIZEN__REQUESTS", "5/minute;2/second")
    monkeypatch.setenv("PANJEREH_RATE_LIMITS__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    limits = Settings().rate_limits
    assert limits.citizen.requests == "5/minute;2/second"
    assert limits.citizen.shahkar == RateLimits().citizen.shahkar  # the rest keeps its default
    assert limits.trusted_proxies == [ip_network("10.0.0.0/8")]
    monkeypatch.setenv("PANJEREH_RATE_LIMITS__ENABLED", "false")
    assert Settings().rate_limits.enabled is False


def test_a_limit_that_does_not_parse_stops_start_up() -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        CallerLimits(requests="sixty a minute", lookups="1/minute", shahkar="1/minute")
    with pytest.raises(ValidationError):
        RateLimits(anonymous="")


def test_windows_are_ordered_shortest_first() -> None:
    items = parse_limits("60/minute;20/second;1000/day")
    assert [item.get_expiry() for item in items] == [1, 60, 86400]


def test_default_budgets_allow_a_home_screen_and_refreshes_but_not_a_loop() -> None:
    citizen = RateLimits().citizen
    per_minute = {i.get_expiry(): i.amount for i in parse_limits(citizen.requests)}
    assert 30 <= per_minute[60] <= 120  # tens of requests a minute
    assert 10 <= per_minute[1] <= 30  # a burst of a home screen's queries, not 300
    lookups = parse_limits(citizen.lookups)[0]
    assert lookups.amount >= 5 * 18  # five full `me` queries (18 lookups each) a minute
    assert parse_limits(citizen.shahkar)[0].amount <= 20


# -- REDIS_URL → limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "uri", "options"),
    [
        ("redis://:pw@h:6380/2", "async+redis://:pw@h:6380/2", {}),
        ("rediss://h", "async+rediss://h", {}),
        ("unix:///run/redis.sock?db=1", "async+redis+unix:///run/redis.sock?db=1", {}),
        (
            "redis+sentinel://:pw@s1,s2:26380/mymaster/3?sentinel_password=sp",
            "async+redis+sentinel://:pw@s1:26379,s2:26380/mymaster",
            {"db": 3, "sentinel_kwargs": {"password": "sp"}},
        ),
        (
            "redis+sentinel://s1:26379/mymaster",
            "async+redis+sentinel://s1:26379/mymaster",
            {"db": 0, "sentinel_kwargs": {"password": None}},
        ),
        ("redis+cluster://a,b:7001", "async+redis+cluster://a:6379,b:7001", {}),
        ("rediss+cluster://u:p@[::1]:7000", "async+redis+cluster://u:p@[::1]:7000", {"ssl": True}),
    ],
)
def test_redis_urls_map_onto_limits_uris(url: str, uri: str, options: dict[str, Any]) -> None:
    assert limits_uri(url) == (uri, options)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/0", LimitsRedisStorage),
        ("redis+sentinel://127.0.0.1:26379/mymaster", RedisSentinelStorage),
        ("redis+cluster://127.0.0.1:7000", RedisClusterStorage),
    ],
)
async def test_each_url_builds_a_limits_storage_without_connecting(url: str, kind: type) -> None:
    storage = redis_storage(url, key_prefix="ns:ratelimit", timeout_s=0.2)
    try:
        assert type(storage) is kind
        assert storage.bridge.prefixed_key("k") == "ns:ratelimit:k"
    finally:
        await close_storage(storage)


# -- moving windows and their fallback ---------------------------------------------------------


async def test_a_window_admits_its_budget_then_says_how_long_to_wait() -> None:
    windows = Windows(None)
    items = parse_limits("3/minute")
    assert [await windows.hit(items, "a") for _ in range(3)] == [None] * 3
    wait = await windows.hit(items, "a")
    assert wait is not None and 1 <= wait <= 60
    assert await windows.hit(items, "b") is None  # another caller has their own budget


async def test_a_refused_hit_does_not_consume_the_window_that_refused_it() -> None:
    windows = Windows(None)
    items = parse_limits("2/second;3/minute")
    admitted = [await windows.hit(items, "a") is None for _ in range(5)]
    assert admitted == [True, True, False, False, False]
    # The minute window holds two entries, not five: the refused hits were not counted there.
    stats = await windows._local.get_window_stats(items[1], "a")
    assert stats.remaining == 1


class _Flaky(MemoryStorage):
    """A storage that fails like an unreachable Redis while `broken` is set."""

    broken = True
    calls = 0

    async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.broken:
            raise ConnectionError("connection refused")
        return await super().acquire_entry(*args, **kwargs)


async def test_a_failing_shared_storage_falls_back_to_memory_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    primary = _Flaky()
    windows = Windows(primary, retry_after_s=2.0, clock=lambda: now[0])
    items = parse_limits("2/minute")
    with caplog.at_level(logging.INFO, logger="ratelimits.windows"):
        results = [await windows.hit(items, "a") for _ in range(3)]
        assert results[:2] == [None, None] and results[2] is not None  # limited, in memory
        assert windows.degraded and primary.calls == 1  # not retried before retry_after_s
        now[0] = 2.5
        await windows.hit(items, "a")  # one probe, still failing
        assert primary.calls == 2 and windows.degraded
        assert sum("failed" in r.message for r in caplog.records) == 1
        primary.broken = False
        now[0] = 5.0
        assert await windows.hit(items, "a") is None  # the probe succeeds: counted there again
        assert not windows.degraded
        assert sum("answers again" in r.message for r in caplog.records) == 1


async def test_a_slow_shared_storage_counts_as_failed() -> None:
    class _Slow(MemoryStorage):
        async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
            await asyncio.sleep(10)
            return True

    windows = Windows(_Slow(), timeout_s=0.01)
    assert await windows.hit(parse_limits("1/minute"), "a") is None
    assert windows.degraded


# -- budgets per caller ------------------------------------------------------------------------


def _limiter(**config: Any) -> tuple[RateLimiter, Metrics]:
    metrics = Metrics()
    settings = RateLimits(**config)
    return RateLimiter(settings, Windows(None), key_secret=b"k" * 32, metrics=metrics), metrics


def _citizen(code: str = CODE) -> Principal:
    return Principal(PrincipalKind.CITIZEN, code)


async def test_requests_are_limited_per_citizen_and_refusals_counted() -> None:
    limiter, metrics = _limiter(
        citizen=CitizenLimits(requests="2/minute", lookups="9/minute", shahkar="1/minute")
    )
    for _ in range(2):
        await limiter.check_request(_citizen(), "127.0.0.1", [])
    with pytest.raises(RateLimited) as refused:
        await limiter.check_request(_citizen(), "127.0.0.1", [])
    assert refused.value.retry_after is not None and refused.value.retry_after >= 1
    await limiter.check_request(_citizen("0499370899"), "127.0.0.1", [])
    await limiter.check_request(None, "127.0.0.1", [])  # anonymous is another budget
    assert metrics.rate_limited.labels("citizen", "requests")._value.get() == 1


async def test_callers_are_counted_under_a_keyed_hash_never_in_clear() -> None:
    limiter, _ = _limiter()
    await limiter.check_request(_citizen(), "127.0.0.1", [])
    await limiter.check_request(Principal(PrincipalKind.SERVICE, "caseworker"), None, [])
    await limiter.check_request(None, "198.51.100.4", [])
    keys = " ".join(limiter.windows.memory.events)
    assert keys and CODE not in keys and "caseworker" not in keys and "198.51.100" not in keys
    other, _ = _limiter()
    other._secret = b"x" * 32
    assert other._digest("citizen", CODE) != limiter._digest("citizen", CODE)


class _Agency:
    """Stands for a connector: its operations are bound methods of an object with an id."""

    def __init__(self, agency_id: str) -> None:
        self.agency_id = agency_id
        self.calls = 0

    async def fetch(self, *args: Any, deadline: Any = None) -> Fetched[str]:
        self.calls += 1
        return Fetched(value="ok", source=None)  # type: ignore[arg-type]


async def test_each_distinct_lookup_is_spent_once_and_shahkar_has_its_own_budget() -> None:
    limiter, metrics = _limiter(
        citizen=CitizenLimits(requests="9/minute", lookups="4/minute", shahkar="2/minute")
    )
    shahkar, post = _Agency("shahkar"), _Agency("post")
    loaders = RequestLoaders(budget=limiter.lookup_budget(_citizen()))
    # Two fields sharing one lookup spend once.
    await asyncio.gather(loaders.load(post.fetch, CODE), loaders.load(post.fetch, CODE))
    results = await asyncio.gather(
        *(loaders.load(shahkar.fetch, CODE, f"0912000000{i}") for i in range(3)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(refused) == 1 and refused[0].retry_after is not None
    assert shahkar.calls == 2  # the refused lookup never reached the agency
    # 1 + 2 lookups spent; one more fits, the next does not.
    await loaders.load(post.fetch, "0499370899")
    with pytest.raises(RateLimited):
        await loaders.load(post.fetch, "0000000001")
    assert metrics.rate_limited.labels("citizen", "shahkar")._value.get() == 1
    assert metrics.rate_limited.labels("citizen", "lookups")._value.get() == 1


async def test_the_per_request_lookup_cap_still_holds_with_a_budget() -> None:
    limiter, _ = _limiter()
    post = _Agency("post")
    loaders = RequestLoaders(max_lookups=2, budget=limiter.lookup_budget(_citizen()))
    await loaders.load(post.fetch, "a")
    await loaders.load(post.fetch, "b")
    with pytest.raises(QueryTooComplex):
        await loaders.load(post.fetch, "c")


def test_anonymous_callers_have_no_lookup_budget_to_spend() -> None:
    limiter, _ = _limiter()
    assert limiter.lookup_budget(None) is None


async def test_lookups_started_together_are_spent_in_one_count() -> None:
    class _Counting(MemoryStorage):
        acquired = 0

        async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
            self.acquired += 1
            return await super().acquire_entry(*args, **kwargs)

    storage = _Counting()
    limiter = RateLimiter(RateLimits(), Windows(storage), key_secret=b"k" * 32, metrics=Metrics())
    loaders = RequestLoaders(budget=limiter.lookup_budget(_citizen()))
    agencies = [_Agency(f"agency-{i}") for i in range(17)]
    await asyncio.gather(*(loaders.load(a.fetch, CODE) for a in agencies))
    assert all(a.calls == 1 for a in agencies)
    assert storage.acquired == 1  # one count of 17, not 17 counts
    stats = await limiter.windows._shared.get_window_stats(
        parse_limits(RateLimits().citizen.lookups)[0], "citizen", "lookups",
        limiter._digest("citizen", CODE),
    )  # fmt: skip
    assert stats.remaining == parse_limits(RateLimits().citizen.lookups)[0].amount - 17
