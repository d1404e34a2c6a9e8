"""The capacity model: how many pods and Redis shards a national peak needs (docs/capacity.md).

`python -m bench.capacity` prints the plan from measured.toml (what `bin/bench` and
`python -m bench.redis_ops` measured) and assumptions.toml (everything else, each with its
reason); `python -m bench.capacity.collect` rewrites measured.toml from new runs.
"""
