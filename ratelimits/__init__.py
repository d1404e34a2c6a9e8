"""Rate limits per caller and per agency lookup, shared across instances through Redis.

`config` (the settings model), `windows` (moving-window counting with a memory fallback),
`limiter` (who is counted under which budget), `client_ip`, `storage` (REDIS_URL → `limits`),
`refusal` (the 429 answer) and `lifecycle` (building it for the app).
"""
