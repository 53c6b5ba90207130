"""Payment providers: `sandbox` (offline default) and `cashfree`, behind one contract."""
