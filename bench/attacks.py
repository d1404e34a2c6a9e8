"""What the security review's attacks cost the gateway now: `python -m bench.attacks`.

Starts the sandbox and a gateway as child processes on loopback (as `python -m bench` does),
sends each attack of the review a few times and prints how long the refusal took (the quickest
and the slowest try, seen by the client, upload included), its code, and the gateway's resident
memory before and after. Then six distinct 0.9 MB documents at once, with `/healthz` polled
meanwhile: its slowest answer says whether one client's documents stall everyone else.

The figures are for the closing notes and the README; the tests assert the same things with
generous margins (tests/security/test_query_limits.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from auth.tokens import TokenIssuer
from bench.processes import Child, Children, start_gateway, start_sandbox
from sandbox import PERSONAS
from settings import Settings

__all__ = ["main"]

_BILLS = "bills { totalAmount items { kind amount } } licenses { items { kind title } }"
ATTACKS: dict[str, tuple[str, bool]] = {
    "0.9 MB of __typename, no token": ("{ " + "__typename " * 85_000 + "}", False),
    "3000 aliases of me { bills licenses }": (
        "{ " + " ".join(f"a{i}: me {{ {_BILLS} }}" for i in range(3000)) + " }",
        True,
    ),
    "30 000 @skip on one field, no token": (
        "{ __typename " + "@skip(if: false) " * 30_000 + "}",
        False,
    ),
    "50 000 aliases, no token": (
        "{ " + " ".join(f"a{i}: __typename" for i in range(50_000)) + " }",
        False,
    ),
    "nesting 100 000 deep, no token": ("{ me " * 100_000 + "}" * 100_000, False),
    "2000 __typename (22 KB), no token": ("{ " + "__typename " * 2_000 + "}", False),
    "1500 @skip (26 KB), no token": ("{ __typename " + "@skip(if: false) " * 1_500 + "}", False),
}


def _rss_mb(child: Child) -> float:
    for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _post(
    client: aiohttp.ClientSession, url: str, query: str, token: str | None
) -> tuple[float, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    async with client.post(f"{url}/graphql", json={"query": query}, headers=headers) as response:
        body = await response.json()
    elapsed = time.perf_counter() - started
    errors = body.get("errors") or [{}]
    extensions = errors[0].get("extensions", {})
    return elapsed, f"{response.status} {extensions.get('code')} {extensions.get('limit', '')}"


async def _healthz_while(client: aiohttp.ClientSession, url: str, done: asyncio.Event) -> float:
    slowest = 0.0
    while not done.is_set():
        started = time.perf_counter()
        async with client.get(f"{url}/healthz") as response:
            await response.read()
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return slowest


async def _run(url: str, gateway: Child, tries: int) -> None:
    token = TokenIssuer.from_settings(Settings()).citizen(PERSONAS["complete"])
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        print(f"{'attack':40} {'bytes':>9} {'min ms':>8} {'max ms':>8}  answer")
        for name, (query, with_token) in ATTACKS.items():
            times, answer = [], ""
            for _ in range(tries):
                elapsed, answer = await _post(client, url, query, token if with_token else None)
                times.append(elapsed * 1000)
            size = len(json.dumps({"query": query}))
            print(f"{name:40} {size:>9} {min(times):>8.1f} {max(times):>8.1f}  {answer}")

        before = _rss_mb(gateway)
        done = asyncio.Event()
        poller = asyncio.create_task(_healthz_while(client, url, done))
        documents = ["{ " + f"__typename{i} " * 85_000 + "}" for i in range(6)]
        started = time.perf_counter()
        await asyncio.gather(*(_post(client, url, doc, None) for doc in documents))
        elapsed = time.perf_counter() - started
        done.set()
        slowest_health = await poller
        print(
            f"\nsix distinct 0.9 MB documents at once: {elapsed * 1000:.0f} ms in all; "
            f"gateway RSS {before:.0f} -> {_rss_mb(gateway):.0f} MB; "
            f"slowest /healthz meanwhile {slowest_health * 1000:.0f} ms"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__)
    parser.add_argument("--tries", type=int, default=5, help="tries per attack (default 5)")
    args = parser.parse_args(argv)
    with Children(log=lambda line: print(line, flush=True)) as children:
        _, agencies, _ = start_sandbox(children, (0, 0))
        env = {"PANJEREH_RATE_LIMITS__ENABLED": "false"}  # the attacks, not the rate limits
        gateway, url = start_gateway(children, agencies, env=env)
        asyncio.run(_run(url, gateway, args.tries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
