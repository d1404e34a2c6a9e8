"""`python -m bench`: start sandbox, gateway and bare ceiling, load them, print one table.

Everything in one run on one machine, because DESIGN.md §9 asks for ratios to the bare aiohttp
ceiling measured alongside, never for absolute numbers carried over from elsewhere. Children are
started in a `Children` context whose exit (normal, error, Ctrl-C or SIGTERM) terminates them.
The outage scenarios (`hang-*`, bench/outage.py) make one agency hang through the sandbox's admin
API and force its circuit through the gateway's ops API, each undone when the scenario ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp

from bench.load import Probe, Result, Target, measure
from bench.outage import (
    OUTAGES,
    STALE_FRESH_TTL_S,
    Control,
    OutageError,
    OutageScenario,
    hanging,
    outage_judge,
    prime,
    stale_gateway_env,
)
from bench.processes import (
    ROOT,
    ChildError,
    Children,
    start_bare,
    start_gateway,
    start_sandbox,
)

if str(ROOT) not in sys.path:  # the ME document lives in tests/, which is not installed
    sys.path.insert(0, str(ROOT))

SCENARIOS = (
    "bare", "home", "home-nocache", "me-warm", "me-warm-nocache", "me-cold", "status", *OUTAGES,
)  # fmt: skip
# Names that stand for several scenarios.
ALIASES = {"hang-stale-warm": ("hang-closed-stale", "hang-open-stale")}
# The complete persona's own mobile number: mobileCheck answers MATCH for it, NO_MATCH for others.
MOBILE = "09121234567"
# me-cold's expected rate, generously (DESIGN §9: ~90/s a core), for pre-minting tokens; a faster
# run still gets a distinct citizen per request, minted as it goes (see ColdTokens).
COLD_MAX_RPS = 300
OUTAGE_AGENCY = "tax"
# Every gateway the benchmark starts: me-warm sends thousands of requests a second from one
# token, which the default rate limits rightly refuse.
UNLIMITED_ENV = {"PANJEREH_RATE_LIMITS__ENABLED": "false"}
# The `-nocache` scenarios run on a second gateway without the response cache: what executing
# the query costs when the agency data is cached (the setting is read at start-up).
NOCACHE = "-nocache"
NOCACHE_ENV = {"PANJEREH_RESPONSE_CACHE": "off"}
# `status` asks for the page as a browser does (gzip), without a cached copy: every request
# gets the whole page, from the bytes the gateway keeps for a few seconds.
STATUS_HEADERS = {"Accept-Encoding": "gzip", "Accept": "text/html"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _latency(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    try:
        pair = (int(low), int(high if sep else low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH milliseconds, got {text!r}") from exc
    if pair[0] < 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"expected 0 <= LOW <= HIGH, got {text!r}")
    return pair


def _scenarios(text: str) -> list[str]:
    given = [name.strip() for name in text.split(",") if name.strip()]
    names = [each for name in given for each in ALIASES.get(name, (name,))]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown) or '(none)'}; choose from "
            + ", ".join([*SCENARIOS, *ALIASES])
        )
    return list(dict.fromkeys(names))


def _agency(text: str) -> str:
    from sandbox import AGENCY_IDS

    if text not in AGENCY_IDS:
        raise argparse.ArgumentTypeError(f"unknown agency {text!r}; one of {', '.join(AGENCY_IDS)}")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the gateway against a bare aiohttp ceiling in one run "
        "(see bench/README.md for how to read the figures).",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per scenario (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent workers (default 32)"
    )
    parser.add_argument(
        "--scenarios",
        type=_scenarios,
        default=list(SCENARIOS),
        help=f"comma list, run in this order (default {','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--sandbox-latency-ms",
        type=_latency,
        default=(0, 0),
        metavar="LOW-HIGH",
        help="agency latency; default 0-0 so that CPU, not waiting, is measured",
    )
    parser.add_argument(
        "--outage-agency",
        type=_agency,
        default=OUTAGE_AGENCY,
        metavar="AGENCY",
        help=f"the agency the hang-* scenarios make hang (default {OUTAGE_AGENCY})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="gateway processes on the gateway's port (`server.py serve --workers N`, "
        "supervised); server cpu then counts all of them (default 1)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    return parser


class ColdTokens:
    """A different citizen's token for every request, minted before the run where possible.

    Tokens are signed in-process with the gateway's own `TokenIssuer` and default `Settings`
    (the same secret as `server.py dev-token`), rather than by a process per token. Minting costs
    about 0.1 ms, so `count` are minted up front; past those, one is minted per request (spread
    evenly, never a pause that would stall every worker). `sample_national_codes` is deterministic
    and its longer lists start with its shorter ones, so extending it never repeats a citizen.
    """

    def __init__(self, count: int) -> None:
        from auth.tokens import TokenIssuer
        from sandbox import sample_national_codes
        from settings import Settings

        self._issuer = TokenIssuer.from_settings(Settings())
        self._sample = sample_national_codes
        self._codes = sample_national_codes(count)
        self._headers = [_headers(self._issuer.citizen(code)) for code in self._codes]
        self.used = 0
        self.minted_in_run = 0

    def __call__(self) -> Mapping[str, str]:
        index = self.used
        self.used += 1
        if index < len(self._headers):
            return self._headers[index]
        if index >= len(self._codes):
            self._codes = self._sample(2 * len(self._codes))
        self.minted_in_run += 1
        return _headers(self._issuer.citizen(self._codes[index]))


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _me_body() -> bytes:
    from tests.integration.queries import ME

    return json.dumps({"query": ME, "variables": {"mobile": MOBILE}}).encode()


def _home_body() -> bytes:
    from tests.integration.queries import HOME

    return json.dumps({"query": HOME}).encode()


def _warm_headers() -> Callable[[], Mapping[str, str]]:
    from auth.tokens import TokenIssuer
    from sandbox import PERSONAS
    from settings import Settings

    headers = _headers(TokenIssuer.from_settings(Settings()).citizen(PERSONAS["complete"]))
    return lambda: headers


def _ops_token() -> str:
    """A service token with scope `ops`, signed like the citizens' tokens (default Settings)."""
    from auth.tokens import TokenIssuer
    from settings import Settings

    return TokenIssuer.from_settings(Settings()).service("bench", ["ops"])


def _is_cold(name: str) -> bool:
    return name == "me-cold" or (name in OUTAGES and OUTAGES[name].cache == "cold")


def _server_of(name: str) -> str:
    """Which child answers a scenario: `bare`, `gateway`, `gateway-nocache` or
    `gateway-stale`."""
    if name == "bare":
        return "bare"
    if name.endswith(NOCACHE):
        return "gateway-nocache"
    return OUTAGES[name].gateway if name in OUTAGES else "gateway"


async def _run_scenarios(
    args: argparse.Namespace,
    urls: Mapping[str, str],
    probes: Mapping[str, Mapping[str, Probe]],
) -> tuple[list[Result], dict[str, Any]]:
    """Each scenario in turn, against the same children; notes for the report alongside."""
    me_body = _me_body()  # bare gets the same request body: reading it is part of the ceiling
    notes: dict[str, Any] = {"me_query_bytes": len(me_body), "distinct_citizens": {}, "outage": {}}
    results: list[Result] = []
    cold_names = [name for name in args.scenarios if _is_cold(name)]
    cold: ColdTokens | None = None
    if cold_names:
        # One stream of citizens for every cold scenario: a citizen that me-cold has put in the
        # gateway's cache would make a later cold scenario warm for its agencies.
        count = len(cold_names) * int((args.duration + args.warmup) * COLD_MAX_RPS) + 500
        log(f"minting {count} tokens for distinct citizens ({', '.join(cold_names)})")
        cold = ColdTokens(count)
    warm = _warm_headers()
    async with contextlib.AsyncExitStack() as stack:
        control: Control | None = None
        if any(name in OUTAGES for name in args.scenarios):
            session = await stack.enter_async_context(
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            )
            control = Control(session, urls["admin"], _ops_token())
        for name in args.scenarios:
            used_before = cold.used if cold else 0
            if name in OUTAGES:
                assert control is not None
                spec = OUTAGES[name]
                headers = cold if spec.cache == "cold" else warm
                assert headers is not None
                result, notes["outage"][name] = await _run_outage(
                    args,
                    spec,
                    gateway=urls[spec.gateway],
                    control=control,
                    body=me_body,
                    headers=headers,
                    probes=probes[name],
                )
            else:
                if name == "bare":
                    target = Target(f"{urls['bare']}/graphql", me_body, lambda: _headers(None))
                elif name == "status":
                    target = Target(
                        f"{urls['gateway']}/status", b"", lambda: STATUS_HEADERS, method="GET",
                        html=True,
                    )  # fmt: skip
                elif name in ("home", "home" + NOCACHE):
                    target = Target(f"{urls[_server_of(name)]}/graphql", _home_body(), warm)
                elif name in ("me-warm", "me-warm" + NOCACHE):
                    target = Target(f"{urls[_server_of(name)]}/graphql", me_body, warm)
                else:
                    assert cold is not None
                    target = Target(f"{urls['gateway']}/graphql", me_body, cold)
                log(
                    f"running {name}: {args.warmup:g} s warm-up + {args.duration:g} s, "
                    f"{args.concurrency} workers"
                )
                result = await measure(
                    name,
                    target,
                    concurrency=args.concurrency,
                    duration_s=args.duration,
                    warmup_s=args.warmup,
                    probes=probes[name],
                )
            if cold is not None and _is_cold(name):
                notes["distinct_citizens"][name] = cold.used - used_before
            if name == "me-cold" and cold is not None:
                notes["me_cold_distinct_citizens"] = cold.used - used_before
                notes["me_cold_tokens_minted_during_run"] = cold.minted_in_run
            results.append(result)
    return results, notes


async def _run_outage(
    args: argparse.Namespace,
    spec: OutageScenario,
    *,
    gateway: str,
    control: Control,
    body: bytes,
    headers: Callable[[], Mapping[str, str]],
    probes: Mapping[str, Probe],
) -> tuple[Result, dict[str, Any]]:
    """One hang-* scenario: prime the cache if it is to be warm, make the agency hang with its
    circuit forced, measure, undo; figures plus what the sandbox and the ops API said."""
    agency = args.outage_agency
    url = f"{gateway}/graphql"
    if spec.cache != "cold":
        await prime(control.session, url, body, headers())  # the agency is still up here
        if spec.cache == "stale":
            await asyncio.sleep(STALE_FRESH_TTL_S + 0.2)  # past its fresh window: stale from now
    async with hanging(control, gateway, agency, spec.circuit) as seen:
        calls_before = await control.calls(agency)
        log(
            f"running {spec.name}: {agency} hanging, circuit forced {spec.circuit} on "
            f"{spec.gateway}; {args.warmup:g} s warm-up + {args.duration:g} s, "
            f"{args.concurrency} workers"
        )
        result = await measure(
            spec.name,
            Target(url, body, headers, outage_judge(agency, spec.expected_code)),
            concurrency=args.concurrency,
            duration_s=args.duration,
            warmup_s=args.warmup,
            probes=probes,
            counters={"upstream_calls": lambda: control.calls(agency)},
        )
        calls_after = await control.calls(agency)
        seen_after = await control.circuit(gateway, agency)
    if seen_after != seen:
        log(f"warning: in {spec.name} the circuit ended {seen_after}, not {seen}")
    return result, {
        "agency": agency,
        "circuit_forced": spec.circuit,
        "circuit_seen": {"start": seen[0], "end": seen_after[0], "forced": seen_after[1]},
        "cache": spec.cache,
        "gateway": spec.gateway,
        "expected_code": spec.expected_code,
        "upstream_calls_window": result.counters.get("upstream_calls"),
        "upstream_calls_scenario": calls_after - calls_before,
    }


def _machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cpu": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{platform.system()} {platform.machine()}",
    }


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else format(value, spec) + unit


def _table(results: Sequence[Result]) -> Iterator[str]:
    bare = next((r for r in results if r.scenario == "bare"), None)
    w = max(len("scenario"), *(len(r.scenario) for r in results))
    head = (
        f"{'scenario':<{w}} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'vs bare':>8} {'server cpu':>10} {'sandbox cpu':>11} {'client cpu':>10}"
    )
    yield head
    yield "-" * len(head)
    for r in results:
        ratio = r.rps / bare.rps if bare and bare.rps else None
        cpu = r.cpu_percent
        yield (
            f"{r.scenario:<{w}} {r.requests:>9} {r.errors:>7} {r.rps:>9.1f} "
            f"{_fmt(r.percentile(50), '.2f'):>8} {_fmt(r.percentile(99), '.2f'):>8} "
            f"{_fmt(ratio, '.4f'):>8} {_fmt(cpu.get('server'), '.0f', '%'):>10} "
            f"{_fmt(cpu.get('sandbox'), '.0f', '%'):>11} {_fmt(cpu.get('client'), '.0f', '%'):>10}"
        )


def _outage_table(
    agency: str, results: Sequence[Result], outage: Mapping[str, Mapping[str, Any]]
) -> Iterator[str]:
    """The outage rows again, with how the outage agency's part was served and how often the
    gateway still called it."""
    from connectors.registry import CONNECTOR_CLASSES
    from settings import Settings

    policy = CONNECTOR_CLASSES[agency].policy
    yield (
        f"outage: {agency} hanging (sandbox fault hang); its timeout {policy.timeout:g} s, up to "
        f"{policy.max_attempts} attempts, request deadline {Settings().request_deadline_s:g} s"
    )
    rows = [r for r in results if r.scenario in outage]
    w = max(len("scenario"), *(len(r.scenario) for r in rows))
    head = (
        f"{'scenario':<{w}} {'circuit':>7} {'gateway':>13} {'requests':>9} {'missing':>8} "
        f"{'stale':>7} {'fresh':>7} {'calls':>7} {'calls/req':>9} {'calls all':>9}"
    )
    yield head
    yield "-" * len(head)
    for r in rows:
        info = outage[r.scenario]
        calls = info["upstream_calls_window"]
        per = calls / r.requests if calls is not None and r.requests else None
        yield (
            f"{r.scenario:<{w}} {info['circuit_seen']['start']:>7} {info['gateway']:>13} "
            f"{r.requests:>9} {r.parts['missing']:>8} {r.parts['stale']:>7} "
            f"{r.parts['fresh']:>7} {_fmt(calls, '.0f'):>7} {_fmt(per, '.2f'):>9} "
            f"{info['upstream_calls_scenario']:>9}"
        )
    yield (
        f"missing / stale / fresh: the {agency} part of the answer was absent (only its expected "
        "error),\n  served from the cache marked stale, or served from the cache fresh; calls: "
        f"requests the sandbox's\n  {agency} received in the measured window (calls all: from "
        "fault set to fault cleared)"
    )


def _report(
    args: argparse.Namespace, results: Sequence[Result], notes: Mapping[str, Any]
) -> dict[str, Any]:
    machine = _machine()
    low, high = args.sandbox_latency_ms
    outage: Mapping[str, Mapping[str, Any]] = notes.get("outage", {})
    print("\n".join(_table(results)))
    if outage:
        print()
        print("\n".join(_outage_table(args.outage_agency, results, outage)))
        print()
    print(
        f"machine: {machine['cores']} cores ({machine['usable_cores']} usable)"
        f"{', ' + machine['cpu'] if machine['cpu'] else ''}; {machine['python']}; "
        f"{machine['platform']}"
    )
    print(
        f"parameters: duration {args.duration:g} s, warm-up {args.warmup:g} s, concurrency "
        f"{args.concurrency}, gateway workers {args.workers}, sandbox latency {low}-{high} ms, "
        "ME query "
        f"{notes.get('me_query_bytes', 0)} B, mobile {MOBILE}"
    )
    citizens = notes.get("distinct_citizens") or {}
    if citizens:
        print(
            "cold citizens (each used once in the run): "
            + ", ".join(f"{name} {n}" for name, n in citizens.items())
        )
    if any(info["gateway"] == "gateway-stale" for info in outage.values()):
        env = stale_gateway_env(args.outage_agency)
        print(
            "hang-*-stale ran on a second gateway started with "
            + " ".join(f"{k}='{v}'" for k, v in env.items())
        )
    print("cpu: % of one core during the measured window (server = bare or gateway process)")
    for r in results:
        if r.errors:
            kinds = ", ".join(f"{k} ×{n}" for k, n in r.error_kinds.most_common(8))
            print(f"errors in {r.scenario}: {kinds}")
            if all(kind.startswith("NOT_FOUND") for kind in r.error_kinds):
                print("  (all NOT_FOUND: agencies that hold nothing for that citizen, an answer)")
            print(f"  e.g. {r.error_sample}")
        if r.tolerated_kinds:
            kinds = ", ".join(f"{k} ×{n}" for k, n in r.tolerated_kinds.most_common(6))
            more = len(r.tolerated_kinds) - 6
            print(
                f"expected in {r.scenario} (not errors): {kinds}"
                + (f" and {more} more kinds" if more > 0 else "")
            )
        if not r.requests:
            print(
                f"{r.scenario}: no request completed inside the {args.duration:g} s window; each "
                "took longer (see bench/README.md: run it with a longer --duration)"
            )
        if r.unfinished:
            print(f"{r.scenario}: {r.unfinished} workers still waiting when the run stopped")
    bare = next((r for r in results if r.scenario == "bare"), None)
    scenarios = {}
    for r in results:
        figures = r.as_dict()
        figures["ratio_to_bare"] = round(r.rps / bare.rps, 5) if bare and bare.rps else None
        if r.scenario in outage:
            figures["outage"] = dict(outage[r.scenario])
        scenarios[r.scenario] = figures
    parameters = {k: v for k, v in notes.items() if k != "outage"}
    return {
        "machine": machine,
        "parameters": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "sandbox_latency_ms": [low, high],
            "scenarios": args.scenarios,
            "mobile": MOBILE,
            "outage_agency": args.outage_agency,
            "stale_gateway_env": stale_gateway_env(args.outage_agency),
            **parameters,
        },
        "scenarios": scenarios,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM behaves like Ctrl-C, so the same `finally` stops the children."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start what the chosen scenarios need, measure them, report; always stop the children."""
    # `gateway` for me-* and hang-*-cold/warm; `gateway-stale`, the same with a short fresh TTL
    # for the outage agency, only for hang-*-stale (a second process: policies are read at start).
    gateways = sorted({_server_of(name) for name in args.scenarios} - {"bare"})
    with Children(log) as children:
        urls: dict[str, str] = {}
        servers: dict[str, Probe] = {}
        sandbox_cpu: Probe = lambda: None  # noqa: E731
        if gateways:
            low, high = args.sandbox_latency_ms
            log(f"starting sandbox agencies (latency {low}-{high} ms)")
            sandbox, agencies, urls["admin"] = start_sandbox(children, args.sandbox_latency_ms)
            sandbox_cpu = sandbox.cpu_seconds
        for name in gateways:
            env = stale_gateway_env(args.outage_agency) if name == "gateway-stale" else None
            if name == "gateway-nocache":
                env = NOCACHE_ENV
            log(f"starting {name} over {len(agencies)} agencies" + (f" with {env}" if env else ""))
            # The scenarios load the gateway from one token: rate limits would measure refusals.
            env = {**(env or {}), **UNLIMITED_ENV}
            gateway, urls[name] = start_gateway(
                children, agencies, name=name, env=env, workers=args.workers
            )
            if args.workers > 1:  # the supervisor's line names its workers' pids
                pids = gateway.wait_stdout("workers on one port", timeout_s=0).strip()
                log(f"{name} supervisor pid {gateway.pid} at {urls[name]}; {pids}")
            else:
                log(f"{name} pid {gateway.pid} at {urls[name]} (attach a profiler here)")
            servers[name] = gateway.cpu_seconds
        if "bare" in args.scenarios:
            log("starting bare aiohttp ceiling")
            bare, urls["bare"] = start_bare(children)
            servers["bare"] = bare.cpu_seconds
        probes = {
            name: {
                "server": servers[_server_of(name)],
                "sandbox": sandbox_cpu if name != "bare" else (lambda: None),
                "client": time.process_time,
            }
            for name in args.scenarios
        }
        results, notes = asyncio.run(_run_scenarios(args, urls, probes))
    report = _report(args, results, notes)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.workers < 1:
        log("--duration must be > 0, --warmup >= 0, --concurrency >= 1 and --workers >= 1")
        return 2
    outages = [name for name in args.scenarios if name in OUTAGES]
    if args.workers > 1 and outages:
        # The benchmark's gateways have no Redis: setCircuit would reach one worker only.
        log(f"{', '.join(outages)}: run outage scenarios with --workers 1 (without Redis a "
            "forced circuit holds in the worker that was asked, not in the others)")  # fmt: skip
        return 2
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        return run(args)
    except (ChildError, OutageError) as exc:
        log(f"bench: {exc}")
        return 1
    except KeyboardInterrupt:
        log("bench: interrupted; child processes stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
