"""Translation providers: Apertium on this machine, any enabled vendor LLM, and DeepL."""
