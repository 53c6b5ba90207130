"""Vendor seams: one small interface per kind (email, llm, speech, ...), a registry each, and
an offline default that really works. Vendor failures become `providers.errors.ProviderError`."""
