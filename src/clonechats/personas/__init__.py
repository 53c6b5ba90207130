"""Personas: profiles, traits and sliders, memory, media references, sharing, cards."""
