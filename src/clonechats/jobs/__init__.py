"""Background jobs: documents with a due time and a lease, claimed atomically."""
