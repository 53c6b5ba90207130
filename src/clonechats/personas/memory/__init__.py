"""Persona memories: facts the owner (or, later, a chat) gives a persona, recalled by meaning."""
