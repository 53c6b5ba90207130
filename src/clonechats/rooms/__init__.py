"""Debate rooms: personas debating a topic in moderated turns, watched live by any viewer."""
