"""Faster-than-real-time scenarios: the production controllers against the plant models."""
