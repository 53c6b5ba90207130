"""Scheduled ("send later") messages of the chat domain: `service` (schedule, list, edit,
cancel), `delivery` (the job that delivers each item once), `timing` (time zones and DST),
`notices`, `routes` (API), `pages` (the chat page's strip and control)."""
