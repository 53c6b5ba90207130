"""Logs, metrics, cost-meter events, paywall hits and the admin usage dashboard."""
