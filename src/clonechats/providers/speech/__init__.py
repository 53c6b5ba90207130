"""Speech providers: text-to-speech and speech-to-text, offline by default."""
