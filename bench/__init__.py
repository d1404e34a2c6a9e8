"""Panjereh's benchmark: `python -m bench` (or `bin/bench`); see bench/README.md.

The gateway, the sandbox agencies and a bare aiohttp ceiling run as separate processes on
loopback so that their CPU is not shared with the load generator's event loop; every figure is
reported next to the bare ceiling measured in the same run, because absolute req/s depend on the
machine and only the ratios travel (DESIGN.md §9).
"""
