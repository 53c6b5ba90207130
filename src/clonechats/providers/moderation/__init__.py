"""Moderation: decide whether a piece of user input or model output may be passed on."""
