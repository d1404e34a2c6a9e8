"""`python -m bench`: start sandbox, gateway and bare ceiling, load them, print one table.

Everything in one run on one machine, because DESIGN.md §9 asks for ratios to the bare aiohttp
ceiling measured alongside, never for absolute numbers carried over from elsewhere. Children are
started in a `Children` context whose exit (normal, error, Ctrl-C or SIGTERM) terminates them.
"""

from __future__ import annotations

import argparse
import asyncio
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

from bench.load import Probe, Result, Target, measure
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

SCENARIOS = ("bare", "me-warm", "me-cold")
# The complete persona's own mobile number: mobileCheck answers MATCH for it, NO_MATCH for others.
MOBILE = "09121234567"
# me-cold's expected rate, generously (DESIGN §9: ~90/s a core), for pre-minting tokens; a faster
# run still gets a distinct citizen per request, minted as it goes (see ColdTokens).
COLD_MAX_RPS = 300


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
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown) or '(none)'}; choose from "
            + ", ".join(SCENARIOS)
        )
    return list(dict.fromkeys(names))


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

        s = Settings()
        self._issuer = TokenIssuer(s.jwt_secret.get_secret_value(), s.jwt_issuer, s.jwt_audience)
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


def _warm_headers() -> Callable[[], Mapping[str, str]]:
    from auth.tokens import TokenIssuer
    from sandbox import PERSONAS
    from settings import Settings

    s = Settings()
    issuer = TokenIssuer(s.jwt_secret.get_secret_value(), s.jwt_issuer, s.jwt_audience)
    headers = _headers(issuer.citizen(PERSONAS["complete"]))
    return lambda: headers


async def _run_scenarios(
    args: argparse.Namespace,
    urls: Mapping[str, str],
    probes: Mapping[str, Mapping[str, Probe]],
) -> tuple[list[Result], dict[str, Any]]:
    """Each scenario in turn, against the same children; notes for the report alongside."""
    me_body = _me_body()  # bare gets the same request body: reading it is part of the ceiling
    notes: dict[str, Any] = {"me_query_bytes": len(me_body)}
    results: list[Result] = []
    for name in args.scenarios:
        if name == "bare":
            target = Target(f"{urls['bare']}/graphql", me_body, lambda: _headers(None))
        elif name == "me-warm":
            target = Target(f"{urls['gateway']}/graphql", me_body, _warm_headers())
        else:
            count = int((args.duration + args.warmup) * COLD_MAX_RPS) + 500
            log(f"minting {count} tokens for distinct citizens (me-cold)")
            cold = ColdTokens(count)
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
        if name == "me-cold":
            notes["me_cold_distinct_citizens"] = cold.used
            notes["me_cold_tokens_minted_during_run"] = cold.minted_in_run
        results.append(result)
    return results, notes


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
    head = (
        f"{'scenario':<9} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'vs bare':>8} {'server cpu':>10} {'sandbox cpu':>11} {'client cpu':>10}"
    )
    yield head
    yield "-" * len(head)
    for r in results:
        ratio = r.rps / bare.rps if bare and bare.rps else None
        cpu = r.cpu_percent
        yield (
            f"{r.scenario:<9} {r.requests:>9} {r.errors:>7} {r.rps:>9.1f} "
            f"{_fmt(r.percentile(50), '.2f'):>8} {_fmt(r.percentile(99), '.2f'):>8} "
            f"{_fmt(ratio, '.4f'):>8} {_fmt(cpu.get('server'), '.0f', '%'):>10} "
            f"{_fmt(cpu.get('sandbox'), '.0f', '%'):>11} {_fmt(cpu.get('client'), '.0f', '%'):>10}"
        )


def _report(
    args: argparse.Namespace, results: Sequence[Result], notes: Mapping[str, Any]
) -> dict[str, Any]:
    machine = _machine()
    low, high = args.sandbox_latency_ms
    print("\n".join(_table(results)))
    print(
        f"machine: {machine['cores']} cores ({machine['usable_cores']} usable)"
        f"{', ' + machine['cpu'] if machine['cpu'] else ''}; {machine['python']}; "
        f"{machine['platform']}"
    )
    print(
        f"parameters: duration {args.duration:g} s, warm-up {args.warmup:g} s, concurrency "
        f"{args.concurrency}, sandbox latency {low}-{high} ms, ME query "
        f"{notes.get('me_query_bytes', 0)} B, mobile {MOBILE}"
        + (
            f", me-cold citizens {notes['me_cold_distinct_citizens']} distinct"
            if "me_cold_distinct_citizens" in notes
            else ""
        )
    )
    print("cpu: % of one core during the measured window (server = bare or gateway process)")
    for r in results:
        if r.errors:
            kinds = ", ".join(f"{k} ×{n}" for k, n in r.error_kinds.most_common(8))
            print(f"errors in {r.scenario}: {kinds}")
            if all(kind.startswith("NOT_FOUND") for kind in r.error_kinds):
                print("  (all NOT_FOUND: agencies that hold nothing for that citizen, an answer)")
            print(f"  e.g. {r.error_sample}")
        if r.unfinished:
            print(f"{r.scenario}: {r.unfinished} workers still waiting when the run stopped")
    bare = next((r for r in results if r.scenario == "bare"), None)
    scenarios = {}
    for r in results:
        figures = r.as_dict()
        figures["ratio_to_bare"] = round(r.rps / bare.rps, 5) if bare and bare.rps else None
        scenarios[r.scenario] = figures
    return {
        "machine": machine,
        "parameters": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "sandbox_latency_ms": [low, high],
            "scenarios": args.scenarios,
            "mobile": MOBILE,
            **notes,
        },
        "scenarios": scenarios,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM behaves like Ctrl-C, so the same `finally` stops the children."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start what the chosen scenarios need, measure them, report; always stop the children."""
    gateway_needed = any(s.startswith("me-") for s in args.scenarios)
    with Children(log) as children:
        urls: dict[str, str] = {}
        servers: dict[str, Probe] = {}
        sandbox_cpu: Probe = lambda: None  # noqa: E731
        if gateway_needed:
            low, high = args.sandbox_latency_ms
            log(f"starting sandbox agencies (latency {low}-{high} ms)")
            sandbox, agencies = start_sandbox(children, args.sandbox_latency_ms)
            sandbox_cpu = sandbox.cpu_seconds
            log(f"starting gateway over {len(agencies)} agencies")
            gateway, urls["gateway"] = start_gateway(children, agencies)
            log(f"gateway pid {gateway.pid} at {urls['gateway']} (attach a profiler here)")
            servers["gateway"] = gateway.cpu_seconds
        if "bare" in args.scenarios:
            log("starting bare aiohttp ceiling")
            bare, urls["bare"] = start_bare(children)
            servers["bare"] = bare.cpu_seconds
        probes = {
            name: {
                "server": servers["bare" if name == "bare" else "gateway"],
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
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1:
        log("--duration must be > 0, --warmup >= 0 and --concurrency >= 1")
        return 2
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        return run(args)
    except ChildError as exc:
        log(f"bench: {exc}")
        return 1
    except KeyboardInterrupt:
        log("bench: interrupted; child processes stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
