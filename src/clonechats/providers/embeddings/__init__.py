"""Text embeddings: turn memories and the messages that recall them into comparable vectors."""
