"""Persona profiles, sharing, favourites, browsing, pages and instructions."""
