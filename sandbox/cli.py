"""Command line: run the sandbox standalone, or change faults of one that is running.

The first stdout line of `serve` is machine-readable JSON (scripts and tests read the URLs
from it); everything meant for people goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from typing import Any, get_args

from sandbox.agencies import AGENCY_IDS
from sandbox.faults import FaultMode, FaultSpec, Malformation
from sandbox.maintenance import MaintenanceWindow
from sandbox.people import PERSONAS
from sandbox.runner import Sandbox

MODES: tuple[str, ...] = get_args(FaultMode)


def _agency_value(text: str, what: str) -> tuple[str, str]:
    agency, sep, value = text.partition("=")
    if not sep or not value:
        raise argparse.ArgumentTypeError(f"expected AGENCY={what}, got {text!r}")
    if agency not in AGENCY_IDS:
        raise argparse.ArgumentTypeError(
            f"unknown agency {agency!r} (known: {', '.join(AGENCY_IDS)})"
        )
    return agency, value


def fault_arg(text: str) -> tuple[str, str]:
    """`water=down`."""
    agency, mode = _agency_value(text, "MODE")
    if mode not in MODES:
        raise argparse.ArgumentTypeError(f"unknown mode {mode!r} (modes: {', '.join(MODES)})")
    return agency, mode


def window_arg(text: str) -> tuple[str, str]:
    """`water=00:00-02:00`."""
    agency, window = _agency_value(text, "HH:MM-HH:MM")
    try:
        MaintenanceWindow.parse(window)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return agency, window


def latency_arg(text: str) -> tuple[float, float]:
    """`20-120` (uniform between) or `50` (fixed)."""
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX milliseconds, got {text!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"need 0 <= MIN <= MAX, got {text!r}")
    return bounds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Simulated Iranian government agencies (16 HTTP services + an admin app).",
        epilog="Without a command: serve until Ctrl-C/SIGTERM. "
        f"Agencies: {', '.join(AGENCY_IDS)}. Fault modes: {', '.join(MODES)}.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=9100,
        help="admin port; agencies take the next 16 ports in fixed order; 0 = ephemeral ports "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=latency_arg,
        default=(0.0, 0.0),
        metavar="MIN-MAX",
        help="uniform latency added to every normal answer, e.g. 20-120 (default 0)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of fault/latency randomness")
    parser.add_argument(
        "--fault",
        type=fault_arg,
        action="extend",
        nargs="+",
        default=[],
        metavar="AGENCY=MODE",
        help="start with faults, e.g. water=down gas=slow (repeatable)",
    )
    parser.add_argument(
        "--maintenance",
        type=window_arg,
        action="extend",
        nargs="+",
        default=[],
        metavar="AGENCY=HH:MM-HH:MM",
        help="nightly maintenance window in Tehran time, e.g. water=00:00-02:00 (repeatable)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    set_fault = commands.add_parser("set-fault", help="set a fault on a running sandbox")
    set_fault.add_argument("--admin", required=True, help="admin URL, e.g. http://127.0.0.1:9100")
    set_fault.add_argument("agency", choices=AGENCY_IDS, metavar="AGENCY")
    set_fault.add_argument(
        "mode", choices=MODES, metavar="MODE", help=f"one of: {', '.join(MODES)}"
    )
    set_fault.add_argument(
        "--p50", type=float, metavar="MS", help="slow: median latency, ms (default 800)"
    )
    set_fault.add_argument(
        "--p99", type=float, metavar="MS", help="slow: 99th percentile latency, ms (default 3000)"
    )
    set_fault.add_argument(
        "--error-rate",
        type=float,
        metavar="RATE",
        help="flaky/rate_limited: share of failing calls, 0..1",
    )
    set_fault.add_argument(
        "--retry-after", type=int, metavar="S", help="429/maintenance Retry-After, s (default 2)"
    )
    set_fault.add_argument(
        "--hang", type=float, metavar="S", help="hang: seconds a request is held (default 300)"
    )
    set_fault.add_argument(
        "--malformation",
        choices=get_args(Malformation),
        help="malformed: always this kind (xml_bomb, external_entity and oversized are hostile)",
    )
    clear = commands.add_parser("clear-fault", help="put an agency of a running sandbox back up")
    clear.add_argument("--admin", required=True, help="admin URL, e.g. http://127.0.0.1:9100")
    clear.add_argument("agency", choices=AGENCY_IDS, metavar="AGENCY")
    return parser


def _call_admin(method: str, url: str, payload: dict[str, Any] | None = None) -> int:
    """One admin request; prints the answer (stdout) or a readable error (stderr)."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as exc:
        print(f"error: admin answered {exc.code}: {exc.read().decode()}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: cannot reach the sandbox admin at {url}: {reason}", file=sys.stderr)
        return 1
    return 0


def set_fault_command(args: argparse.Namespace) -> int:
    fields = {
        "latency_p50_ms": args.p50,
        "latency_p99_ms": args.p99,
        "error_rate": args.error_rate,
        "retry_after_s": args.retry_after,
        "hang_s": args.hang,
        "malformation": args.malformation,
    }
    payload = {"mode": args.mode, **{k: v for k, v in fields.items() if v is not None}}
    url = f"{args.admin.rstrip('/')}/agencies/{args.agency}/fault"
    return _call_admin("PUT", url, payload)


def clear_fault_command(args: argparse.Namespace) -> int:
    return _call_admin("DELETE", f"{args.admin.rstrip('/')}/agencies/{args.agency}/fault")


async def serve(args: argparse.Namespace) -> int:
    windows = dict(args.maintenance)
    sandbox = Sandbox(args.host, args.port, args.latency_ms, args.seed, windows)
    for agency, mode in args.fault:
        await sandbox.set_fault(agency, FaultSpec(mode=mode))
    try:
        urls = await sandbox.start()
    except OSError as exc:
        last = args.port + len(AGENCY_IDS) if args.port else "ephemeral"
        print(
            f"error: cannot listen on {args.host} ports {args.port}..{last}: {exc}", file=sys.stderr
        )
        return 1
    print(json.dumps({"admin": sandbox.admin_url, "agencies": urls}), flush=True)
    _describe(sandbox, urls)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    print("sandbox: stopping", file=sys.stderr, flush=True)
    await sandbox.stop()
    return 0


def _describe(sandbox: Sandbox, urls: dict[str, str]) -> None:
    lines = [f"sandbox admin: {sandbox.admin_url}  (GET /agencies, PUT /agencies/ID/fault)"]
    for agency, url in urls.items():
        notes = (
            [f"fault={sandbox.fault(agency).mode}"] if sandbox.fault(agency).mode != "up" else []
        )
        if (window := sandbox.maintenance_window(agency)) is not None:
            notes.append(f"maintenance {window} Tehran")
        lines.append(f"  {agency:<17} {url}  {' '.join(notes)}".rstrip())
    lines.append("personas: " + ", ".join(f"{name}={code}" for name, code in PERSONAS.items()))
    lines.append("Ctrl-C to stop")
    print("\n".join(lines), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "set-fault":
        return set_fault_command(args)
    if args.command == "clear-fault":
        return clear_fault_command(args)
    if not 0 <= args.port <= 65535 - len(AGENCY_IDS):
        build_parser().error(f"--port must be 0..{65535 - len(AGENCY_IDS)}")
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
