"""Scheduled messages' background job.

- `chat.deliver_scheduled` (`delivery.deliver_scheduled`): queued for each item's `send_at`
  (again for a new time after an edit, for a retry, or when the item was busy); claims the
  item and delivers it once. A job that finds the item cancelled, delivered, failed or gone
  does nothing; one that finds it not yet due queues itself for its time.
"""

from clonechats.chat.scheduled.delivery import deliver_scheduled
from clonechats.chat.scheduled.service import DELIVER_JOB
from clonechats.jobs.service import JobRegistry


def register_jobs(registry: JobRegistry) -> None:
    registry.register(DELIVER_JOB, deliver_scheduled)
