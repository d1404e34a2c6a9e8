"""Several gateway processes on one port: the supervisor (workers.serve, workers.supervisor),
how it starts them (workers.processes) and what a worker does differently (workers.worker)."""
