"""Safety: moderation flags for admins to review (the moderators themselves live in
`providers/moderation`)."""
