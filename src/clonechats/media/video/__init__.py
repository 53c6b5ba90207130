"""Video avatar replies: background jobs that turn a persona message into a lip-synced clip."""
