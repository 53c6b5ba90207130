"""Lip-sync video providers: a local renderer (the offline default) and fal.ai's queue API."""
