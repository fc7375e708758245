"""Alerts: rules that watch the cache after a sync, and the channels that deliver what they find."""
