"""Panjereh's entry point: `create_app(settings)` builds the gateway, `main()` is the CLI.

Shared resources are created in aiohttp cleanup contexts, in dependency order (observability is
made first, then the sandbox agencies when embedded, the cache, the agency health book, the
connectors with their one HTTP session, the probes) and closed in reverse order. Nothing lives
in module globals.

`serve` runs one process until SIGTERM and drains it (observability.drain): whoever starts
gateway processes (the command line, a supervisor of workers) calls it in each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import os
import shlex
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from auth.tokens import TokenIssuer, TokenVerifier
from auth.verifier import token_verifier
from cache.backend import CacheBackend
from cache.fallback import FallbackCache
from cache.memory import MemoryCache
from cache.redis import RedisCache
from cache.store import CacheStore
from connectors.circuit_overrides import CircuitOverrides
from connectors.pipeline.transport import AioHttpTransport
from connectors.registry import AGENCY_IDS, Connectors, build_connectors
from domain.errors import InvalidInput
from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.lifecycle import open_health_book
from observability.auditor import Auditor
from observability.drain import Drain
from observability.health import health_routes
from observability.logs import configure_logging
from observability.maintenance import MaintenanceCalendar, PreWindowRefresh, stale_shortfalls
from observability.metrics import Metrics
from observability.middleware import access_log, last_resort
from observability.probes import Prober
from observability.status_page import StatusPage, agency_names, status_routes
from ratelimits.lifecycle import open_rate_limiter
from ratelimits.limiter import RateLimiter
from schema import http_input
from schema.graphiql.page import GraphiQLPage, graphiql_routes
from schema.persisted.gate import PersistedQueryGate
from schema.response_cache.cache import ResponseCache
from schema.response_cache.config import ResponseCacheConfig
from schema.schema import SDL_PATH, build_schema
from schema.view import GatewayView
from settings import Settings
from workers.worker import WorkerIdentity, settings_for_slot

__all__ = ["create_app", "main", "serve"]

log = logging.getLogger("panjereh")

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
AGENCY_URLS = web.AppKey("agency_urls", dict)
CACHE = web.AppKey("cache", CacheStore)
CONNECTORS = web.AppKey("connectors", Connectors)
VIEW = web.AppKey("graphql_view", GatewayView)
VERIFIER = web.AppKey("token_verifier", TokenVerifier)
SANDBOX = web.AppKey("sandbox", object)
KEY_SECRET = web.AppKey("key_secret", bytes)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter | None)
AUDITOR = web.AppKey("auditor", Auditor)
PROBER = web.AppKey("prober", Prober)
MAINTENANCE = web.AppKey("maintenance", MaintenanceCalendar)
PRE_WINDOW_REFRESH = web.AppKey("pre_window_refresh", PreWindowRefresh)
HEALTH_BOOK = web.AppKey("health_book", AgencyHealthBook)
CIRCUITS = web.AppKey("circuit_overrides", CircuitOverrides)
STATUS_PAGE = web.AppKey("status_page", StatusPage)
DRAIN = web.AppKey("drain", Drain)


def create_app(settings: Settings | None = None) -> web.Application:
    """The gateway as an aiohttp application, ready for `web.run_app` or a test runner."""
    settings = settings or Settings()
    metrics = Metrics()
    app = web.Application(
        middlewares=[access_log, last_resort], client_max_size=http_input.MAX_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[DRAIN] = drain = Drain(grace_s=settings.shutdown_grace_s, quiet_s=settings.shutdown_quiet_s)
    drain.install(app)
    app.cleanup_ctx.extend(
        [
            _agencies,
            _cache,
            _tokens,
            _rate_limits,
            _audit,
            _maintenance,
            _health,
            _connectors,
            _circuits,
            _probes,
            _pre_window_refresh,
        ]
    )
    app.router.add_routes(health_routes(metrics, CACHE, drain))
    if settings.status_page.enabled:
        app.cleanup_ctx.append(_status_page)
        app.router.add_routes(status_routes(STATUS_PAGE))
    app.router.add_route("*", "/graphql", _graphql_handler)
    app.router.add_get("/", _index)
    if settings.mode == "development":  # GraphiQL's files; production answers 404 for them
        app.router.add_routes(graphiql_routes())
    return app


async def _agencies(app: web.Application) -> AsyncIterator[None]:
    """Agency base URLs: configured ones, or the sandbox agencies started on loopback."""
    settings = app[SETTINGS]
    if not settings.embedded_sandbox:
        app[AGENCY_URLS] = dict(settings.agency_urls)
        yield
        return
    from sandbox import Sandbox  # only the embedded default needs the sandbox

    sandbox = Sandbox(host="127.0.0.1", latency_ms=settings.sandbox_latency_ms)
    app[AGENCY_URLS] = await sandbox.start()
    app[SANDBOX] = sandbox
    log.info("sandbox agencies started; admin at %s", sandbox.admin_url)
    try:
        yield
    finally:
        await sandbox.stop()


async def _cache(app: web.Application) -> AsyncIterator[None]:
    """The in-memory LRU, or Redis with the LRU as its fallback while Redis is unreachable."""
    settings = app[SETTINGS]
    secret = settings.cache_key_secret
    key = secret.get_secret_value().encode() if secret else os.urandom(32)
    app[KEY_SECRET] = key
    memory = MemoryCache(
        max_entries=settings.cache_max_entries,
        max_bytes=settings.cache_max_bytes,
        metrics=app[METRICS],
    )
    backend: CacheBackend = memory
    timeout = settings.cache_timeout_s
    if settings.redis_url:
        # Redis must fail (and hand over to memory) before the store's own bound cuts it off.
        redis = RedisCache.from_url(settings.redis_url, socket_timeout=timeout * 0.8)
        # One call before traffic: a Cluster client learns the topology alone, not under the
        # first burst of requests (where redis-py's async cluster client trips over itself).
        if not await redis.ping():
            log.warning("Redis at %r does not answer yet; serving from memory until it does", redis)
        backend = FallbackCache(
            redis, memory, metrics=app[METRICS], primary_timeout_s=timeout * 0.8
        )
    app[CACHE] = CacheStore(
        backend,
        key_secret=key,
        metrics=app[METRICS],
        encryption_key=settings.encryption_key,
        namespace=settings.cache_namespace,
        op_timeout=timeout,
    )
    try:
        yield
    finally:
        await backend.close()


async def _tokens(app: web.Application) -> AsyncIterator[None]:
    """The one token verifier of the app, with its JWKS source when one is configured."""
    async with token_verifier(app[SETTINGS]) as verifier:
        app[VERIFIER] = verifier
        yield


async def _rate_limits(app: web.Application) -> AsyncIterator[None]:
    """Budgets per caller, counted in Redis next to the cache (in memory without it)."""
    async with open_rate_limiter(
        app[SETTINGS], key_secret=app[KEY_SECRET], metrics=app[METRICS]
    ) as limiter:
        app[RATE_LIMITER] = limiter
        yield


async def _audit(app: web.Application) -> AsyncIterator[None]:
    """The audit log: its chain continues from the file; pending records are flushed on close."""
    settings = app[SETTINGS]
    app[AUDITOR] = auditor = await Auditor.open(
        settings.audit,
        metrics=app[METRICS],
        redis_url=settings.redis_url,
        namespace=settings.cache_namespace,
    )
    try:
        yield
    finally:
        await auditor.close()


class _Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=_Service)


@contextlib.asynccontextmanager
async def _running(app: web.Application, key: web.AppKey[S], service: S) -> AsyncIterator[None]:
    """`service` kept at `key` and started, for as long as the app runs; stopped at cleanup
    (the background services: calendar, circuit overrides, prober, pre-window refresh)."""
    app[key] = service
    await service.start()
    try:
        yield
    finally:
        await service.stop()


async def _maintenance(app: web.Application) -> AsyncIterator[None]:
    """The maintenance calendar: nightly windows from settings, ops' one-off windows shared
    through Redis when it is configured (in memory otherwise)."""
    settings = app[SETTINGS]
    calendar = MaintenanceCalendar.from_settings(
        settings.maintenance,
        AGENCY_IDS,
        redis_url=settings.redis_url,
        namespace=settings.cache_namespace,
    )
    async with _running(app, MAINTENANCE, calendar):
        yield


async def _health(app: web.Application) -> AsyncIterator[None]:
    """The agency health book, before the connectors and the view (both are given it when they
    are made) and closed after them, so the last attempts' samples are flushed. It reads the
    maintenance calendar: an agency in a planned window is MAINTENANCE, not down."""
    opened = open_health_book(
        app[SETTINGS], AGENCY_IDS, metrics=app[METRICS], maintenance=app[MAINTENANCE]
    )
    async with opened as book:
        app[HEALTH_BOOK] = book
        yield


AGENCY_POOL_LIMIT = 512
"""Connections one process keeps open to agencies in all: the sum of the agencies' bulkheads
(16 × 32), so the bulkheads, not the pool, decide (docs/capacity.md)."""
AGENCY_POOL_PER_HOST = 64
"""Connections to one host (host, port, TLS): binds when several agencies share one host."""


async def _connectors(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    connector = aiohttp.TCPConnector(
        limit=AGENCY_POOL_LIMIT, limit_per_host=AGENCY_POOL_PER_HOST, ttl_dns_cache=300
    )
    async with aiohttp.ClientSession(connector=connector, raise_for_status=False) as session:
        connectors = build_connectors(
            app[AGENCY_URLS],
            transport=AioHttpTransport(session),
            cache=app[CACHE],
            metrics=app[METRICS],
            policy_overrides=settings.agency_policies,
            maintenance=app[MAINTENANCE],
            recent=settings.maintenance.recent_limits,
            health=app[HEALTH_BOOK],
        )
        app[CONNECTORS] = connectors
        app[CIRCUITS] = CircuitOverrides.for_redis_url(
            connectors, settings.redis_url, namespace=settings.cache_namespace
        )
        persisted = PersistedQueryGate.from_settings(
            settings.persisted_queries,
            shared=app[CACHE].backend if settings.redis_url else None,
            namespace=settings.cache_namespace,
        )
        app[VIEW] = GatewayView(
            schema=build_schema(
                production=settings.mode == "production",
                limits=settings.limits,
                persisted=persisted,
            ),
            persisted=persisted,
            connectors=connectors,
            metrics=app[METRICS],
            circuits=app[CIRCUITS],
            verifier=app[VERIFIER],
            deadline_s=settings.request_deadline_s,
            rate_limiter=app[RATE_LIMITER],
            auditor=app[AUDITOR],
            response_cache=_response_cache(app),
            health=app[HEALTH_BOOK],
            maintenance=app[MAINTENANCE],
            graphiql=_graphiql(settings),
        )
        try:
            yield
        finally:
            for each in connectors:
                await each.close()


async def _circuits(app: web.Application) -> AsyncIterator[None]:
    """Circuits forced by ops hold on every instance: read from Redis before serving, then
    followed (connectors.circuit_overrides)."""
    async with _running(app, CIRCUITS, app[CIRCUITS]):
        yield


async def _probes(app: web.Application) -> AsyncIterator[None]:
    """Every agency probed on an interval, and judged by the health book, so its state holds
    without user traffic."""
    settings = app[SETTINGS]
    if not settings.probes.enabled:
        yield
        return
    prober = Prober(
        app[CONNECTORS],
        settings.probes,
        shared=app[CACHE].backend,
        metrics=app[METRICS],
        health=app[HEALTH_BOOK],
        namespace=settings.cache_namespace,
        op_timeout=settings.cache_timeout_s,
    )
    async with _running(app, PROBER, prober):
        yield


async def _pre_window_refresh(app: web.Application) -> AsyncIterator[None]:
    """Recently active citizens' data refreshed shortly before each agency's window."""
    config = app[SETTINGS].maintenance
    calendar, connectors = app[MAINTENANCE], app[CONNECTORS]
    for shortfall in stale_shortfalls(calendar, connectors, config.refresh_lead_s):
        log.warning("a copy not refreshed before maintenance may expire in it: %s", shortfall)
    refresh = PreWindowRefresh(
        calendar,
        connectors,
        metrics=app[METRICS],
        lead_s=config.refresh_lead_s,
        concurrency=config.refresh_concurrency,
        check_s=config.refresh_check_s,
    )
    async with _running(app, PRE_WINDOW_REFRESH, refresh):
        yield


async def _status_page(app: web.Application) -> AsyncIterator[None]:
    """The public status page, read from the health book (public: agency health only)."""
    page = StatusPage(app[HEALTH_BOOK], agency_names(app[CONNECTORS]), app[SETTINGS].status_page)
    app[STATUS_PAGE] = page
    try:
        yield
    finally:
        await page.close()


def _response_cache(app: web.Application) -> ResponseCache | None:
    """Kept answers, in the same backend (and byte budget) as agency data; None when off."""
    settings = app[SETTINGS]
    config = settings.response_cache
    assert isinstance(config, ResponseCacheConfig)  # `on`/`off` are turned into a config
    if not config.enabled:
        return None
    return ResponseCache(
        config,
        app[CACHE].backend,
        key_secret=app[KEY_SECRET],
        metrics=app[METRICS],
        auditor=app[AUDITOR],
        encryption_key=settings.encryption_key,
        namespace=settings.cache_namespace,
        op_timeout=settings.cache_timeout_s,
    )


def _graphiql(settings: Settings) -> GraphiQLPage | None:
    """GraphiQL in development mode only, with a sandbox citizen's token in its headers editor
    when this gateway signs development tokens (as `_announce` prints one)."""
    if settings.mode != "development":
        return None
    try:
        issuer = TokenIssuer.from_settings(settings)
    except PermissionError:  # tokens come from a real identity provider: nothing to pre-fill
        return GraphiQLPage()
    from sandbox import PERSONAS

    citizen = PERSONAS["complete"]
    return GraphiQLPage(headers=lambda: {"Authorization": f"Bearer {issuer.citizen(citizen)}"})


async def _graphql_handler(request: web.Request) -> web.StreamResponse:
    return await request.app[VIEW](request)


async def _index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/graphql")


# -- command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python server.py",
        description="Panjereh: one GraphQL endpoint over Iran's government agencies. With no "
        "options it serves the embedded default: sandbox agencies on loopback, in-memory cache, "
        "development tokens. Every option can also be set as PANJEREH_<NAME> in the environment.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--mode", choices=["development", "production"], help="default development")
    parser.add_argument(
        "--agency-urls",
        metavar="JSON",
        help='agency id → base URL, e.g. the first line `python -m sandbox` prints ({"agencies": '
        "{...}} is accepted too); default: start the sandbox agencies in-process",
    )
    parser.add_argument("--redis-url", help="Redis cache URL (also REDIS_URL)")
    parser.add_argument("--deadline", type=float, help="request deadline in seconds (default 8)")
    workers_help = (
        "gateway processes on the one port (SO_REUSEPORT), supervised: a dead one is replaced, "
        "SIGTERM stops them all gracefully (default 1 in development, one per core in production)"
    )
    parser.add_argument("--workers", type=int, metavar="N", help=workers_help)
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the gateway (the default)")
    serve.add_argument(
        "--workers", type=int, metavar="N", default=argparse.SUPPRESS, help=workers_help
    )
    token = commands.add_parser("dev-token", help="print a development bearer token for a citizen")
    token.add_argument("national_code", help="the sandbox citizen's national code")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.add_argument(
        "--acr", type=int, default=3, choices=[1, 2, 3], help="authentication level (default 3)"
    )
    service = commands.add_parser(
        "service-token", help="print a development bearer token for a service client"
    )
    service.add_argument("client_id")
    service.add_argument("--scope", action="append", default=[], help="e.g. citizen:read, ops")
    service.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="check audit log files' hash chains; exit 1 at the first broken record"
    )
    verify.add_argument("files", nargs="+", help="JSON-lines files, oldest first")
    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("path", nargs="?", default=str(SDL_PATH))
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "host": args.host,
            "port": args.port,
            "mode": args.mode,
            "redis_url": args.redis_url,
            "request_deadline_s": args.deadline,
            "log_level": args.log_level,
            "workers": args.workers,
        }.items()
        if value is not None
    }
    if args.agency_urls:
        urls = json.loads(args.agency_urls)
        overrides["agency_urls"] = urls.get("agencies", urls)
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "audit":  # needs only the audit key of the gateway's configuration
        from observability.audit_verify import verify_command

        return verify_command(args.files)
    try:
        settings = _settings_from(args)
    except (ValidationError, json.JSONDecodeError) as exc:
        print(f"configuration error: {configuration_errors(exc)}", file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level, settings.log_format, production=settings.mode == "production"
    )
    if args.command in ("dev-token", "service-token"):
        try:
            print(_development_token(args, settings))
        except InvalidInput as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        return 0
    if args.command == "export-schema":
        from schema.export import export_sdl

        export_sdl(args.path)
        print(f"wrote {args.path}")
        return 0
    return _serve_command(settings, list(sys.argv[1:] if argv is None else argv))


def _serve_command(settings: Settings, arguments: list[str]) -> int:
    """One gateway process until SIGTERM/SIGINT, then drained (`serve`), or, for more than
    one worker, the supervisor that runs this same command once per worker (workers/)."""
    python = shlex.quote(os.path.relpath(sys.executable))  # how to run this interpreter again
    worker = WorkerIdentity.from_environ()
    if worker is None and settings.worker_count > 1:
        from workers.serve import serve_workers

        return serve_workers(
            settings,
            arguments,
            script=Path(__file__).resolve(),
            banner=functools.partial(_banner, settings, python=python),
        )
    if worker is not None:
        settings = settings_for_slot(settings, worker.slot)
    app = create_app(settings)
    if worker is None:
        app.on_startup.append(functools.partial(_announce, python=python))
        serve(app)
    else:  # the supervisor announces the workers once they all serve
        worker.install(app)
        serve(app, reuse_port=True, listening=worker.ready_notifier())
    return 0


def serve(
    app: web.Application,
    *,
    reuse_port: bool = False,
    sock: socket.socket | None = None,
    listening: Callable[[], None] | None = None,
) -> None:
    """Serve `app` (made by `create_app`) on its settings' host and port (with SO_REUSEPORT
    when `reuse_port`), or on `sock` already bound, until SIGTERM or SIGINT; then drain it (see
    observability.drain). `listening` is called once the socket accepts connections (a worker
    tells its supervisor). Returns when the process may exit."""
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        runner.run(_serve(app, reuse_port=reuse_port, sock=sock, listening=listening))


async def _serve(
    app: web.Application,
    *,
    reuse_port: bool,
    sock: socket.socket | None,
    listening: Callable[[], None] | None,
) -> None:
    """aiohttp's runner with aiohttp's graceful shutdown, behind one step of our own: between
    the signal and that shutdown the listeners stay open, so what a load balancer sends before
    it has seen /readyz fail is still served (`run_app` would close them at the signal).

    What is still in flight when the listeners close (normally nothing: the drain waited for
    it) gets up to one request deadline, never more than the grace, as aiohttp's
    `shutdown_timeout`; every GraphQL request ends by its deadline anyway. So the process exits
    at most grace + deadline after the signal, plus the flushes: the orchestrator's kill timer
    must allow that (Kubernetes: terminationGracePeriodSeconds = grace + 10, deadline 8 s)."""
    settings, drain = app[SETTINGS], app[DRAIN]
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, drain.begin)
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=min(settings.shutdown_grace_s, settings.request_deadline_s),
    )
    try:
        await runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(runner, sock)
        else:
            site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port)
        await site.start()
        if listening is not None:
            listening()
        await drain.begun()
        await drain.quiet()
    finally:
        try:
            await runner.cleanup()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    drain.report()


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (faster sockets and scheduling), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def configuration_errors(exc: ValidationError | json.JSONDecodeError) -> str:
    """What is wrong with the configuration, without echoing any value (secrets included)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"--agency-urls is not JSON ({exc.msg})"
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    )


def _development_token(args: argparse.Namespace, settings: Settings) -> str:
    """A development token; exits if the configuration is production-like (real keys)."""
    try:
        issuer = TokenIssuer.from_settings(settings)
    except PermissionError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.command == "dev-token":
        return issuer.citizen(args.national_code, ttl_s=args.ttl, acr=args.acr)
    return issuer.service(args.client_id, args.scope, ttl_s=args.ttl)


async def _announce(app: web.Application, *, python: str) -> None:
    """Tell the person who started the gateway where it is and how to try it."""
    sandbox = app.get(SANDBOX)
    admin_url = getattr(sandbox, "admin_url", None) if sandbox is not None else None
    print(_banner(app[SETTINGS], admin_url, python=python), flush=True)


def _banner(settings: Settings, sandbox_admin_url: str | None, *, python: str) -> str:
    """Where the gateway is and how to try it. The sandbox's citizens and a token for one are
    the embedded default's onboarding (`sandbox_admin_url`: the sandbox it runs, in-process or,
    for several workers, the supervisor's): development only, never in production (where
    stdout goes to the log collector)."""
    development = settings.mode == "development"
    base = f"http://{settings.host}:{settings.port}"
    ide = " (GraphiQL in the browser)" if development else ""
    lines = [f"Panjereh is serving GraphQL at {base}/graphql{ide}"]
    lines.append(f"  health {base}/healthz  readiness {base}/readyz  metrics {base}/metrics")
    if settings.status_page.enabled:
        lines.append(f"  status page {base}/status (English: {base}/status?lang=en)")
    if development and sandbox_admin_url and settings.tokens.dev_secret_for(settings.mode):
        from sandbox import PERSONAS

        example = PERSONAS["complete"]
        issuer = TokenIssuer.from_settings(settings)
        lines += [
            f"  sandbox agencies on loopback; admin at {sandbox_admin_url}",
            "  sandbox citizens: " + ", ".join(f"{name} {code}" for name, code in PERSONAS.items()),
            f"  a development token for a citizen: {python} server.py dev-token <national code>",
            f"  e.g. for {example} (valid 12 h, authentication level 3):",
            f"    {issuer.citizen(example)}",
            "  then send it as `Authorization: Bearer <token>` with a query such as",
            "    { me { profile { firstName lastName } bills { totalAmount items { amount } } } }",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
