"""Privacy: pseudonyms, the registry of personal data, consent, export, deletion, retention."""
