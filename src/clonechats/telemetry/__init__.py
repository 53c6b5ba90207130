"""Logs, metrics and (later) cost-meter events."""
