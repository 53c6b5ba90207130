"""Voice: persona voices, spoken replies, speech input and the voice call page."""
