"""The privacy domain's background jobs.

- `privacy.export`: build one data export (see `export.py`).
- `privacy.delete_account`: purge an account whose owner asked for deletion (`deletion.py`).
- `privacy.retention`: apply the retention rules, daily at 03:00 UTC (`retention.py`).
"""

from clonechats.jobs.service import JobRegistry
from clonechats.privacy import deletion, export, retention


def register_jobs(registry: JobRegistry) -> None:
    registry.register(export.EXPORT_JOB, export.build)
    registry.register(deletion.DELETE_JOB, deletion.delete_account)
    registry.register(retention.RETENTION_JOB, retention.run_retention)
