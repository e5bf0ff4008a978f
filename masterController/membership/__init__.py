"""Cluster membership: node state tracking, offline detection, master tracking (never the quorum)."""
