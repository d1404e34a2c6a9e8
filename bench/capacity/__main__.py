"""`python -m bench.capacity`: pods, cores, Redis shards and agency calls for a national peak.

    python -m bench.capacity                       # the committed inputs
    python -m bench.capacity --peak-month 694e6 --set cpu_target_utilisation=0.5
    python -m bench.capacity --outage-agency civil-registry --json /tmp/plan.json
    python -m bench.capacity --agency-policies '{"traffic-police": {"max_concurrent": 64}}'

Measured figures come from bench/capacity/measured.toml, assumptions from assumptions.toml
(docs/capacity.md explains both and how to measure again).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.capacity.inputs import (
    ASSUMPTIONS_PATH,
    CPU_SOURCES,
    MEASURED_PATH,
    load_inputs,
    parse_override,
)
from bench.capacity.model import plan
from bench.capacity.report import as_json, lines


def _override(text: str) -> tuple[str, Any]:
    try:
        return parse_override(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity",
        description="Size the fleet for a peak from measured per-request costs and stated "
        "assumptions (docs/capacity.md).",
    )
    parser.add_argument(
        "--peak-month", type=float, metavar="N", help="transactions in the peak month"
    )
    parser.add_argument("--outage-agency", metavar="AGENCY", help="the agency that fails")
    parser.add_argument(
        "--set",
        type=_override,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one assumption (a TOML value), e.g. temperature_share="
        "'{hot = 0.2, warm = 0.4, cold = 0.4}'; repeatable",
    )
    parser.add_argument(
        "--gateway-cpu",
        choices=sorted(CPU_SOURCES),
        default="bench",
        help="whose CPU per request: bin/bench's (default; rate limits off) or "
        "bench.redis_ops' (rate limits on, as in production)",
    )
    parser.add_argument(
        "--agency-policies",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="policy overrides as PANJEREH_AGENCY_POLICIES takes them, e.g. "
        '\'{"traffic-police": {"max_concurrent": 64}}\'',
    )
    parser.add_argument(
        "--audit-stream-maxlen",
        type=int,
        metavar="N",
        help="records kept in each process's audit stream, as PANJEREH_AUDIT__STREAM_MAXLEN",
    )
    parser.add_argument("--measured", type=Path, default=MEASURED_PATH, help="measured inputs")
    parser.add_argument("--assumptions", type=Path, default=ASSUMPTIONS_PATH, help="assumed inputs")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the plan as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: list[tuple[str, Any]] = list(args.set)
    if args.peak_month is not None:
        overrides.append(("peak_month_transactions", args.peak_month))
    if args.outage_agency is not None:
        overrides.append(("outage_agency", args.outage_agency))
    try:
        inputs, measured_doc, _ = load_inputs(
            args.measured,
            args.assumptions,
            overrides,
            cpu=args.gateway_cpu,
            policy_overrides=args.agency_policies,
            audit_stream_maxlen=args.audit_stream_maxlen,
        )
        if inputs.assumed.outage_agency not in inputs.limits.policies:
            known = ", ".join(inputs.limits.policies)
            raise ValueError(f"unknown agency {inputs.assumed.outage_agency!r}; one of {known}")
        result = plan(inputs)
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        print(f"bench.capacity: {exc}", file=sys.stderr)
        return 2
    for line in lines(result, inputs, measured_doc, args.gateway_cpu):
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(result), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
