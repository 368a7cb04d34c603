"""Shared pieces of the end-to-end benchmarks (bench/webhooks, bench/faults).

Only ``product.py`` imports Django (fixtures and read-backs); the load generator, the WebSocket
listener (a child process), the process management and the CPU accounting do not.
"""
