"""Clips: generated voice (and video) replies, their files in the media store."""
