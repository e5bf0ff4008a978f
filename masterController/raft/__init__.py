"""Raft leader election without a replicated log: a pure core plus an injected durable store."""
