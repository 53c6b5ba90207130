"""`clonechats privacy ...`: the operator's privacy tools.

- `audit`: check the stored data against the privacy policy's promises (exit 1 if one is
  broken); see `privacy.audit`.
- `retention`: apply the retention rules now, as the daily job does.

Like `cli.py`, each command imports what it runs inside itself, to keep start-up light.
"""

import json
from typing import Annotated

import typer

from clonechats.cli_tasks import DataDir, run_admin_task

app = typer.Typer(help="Privacy tools: audit the stored data, apply retention now.",
                  no_args_is_help=True)


@app.command("audit")
def audit_command(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Report each privacy promise as KEPT or BROKEN; exit 1 if any is broken."""
    from clonechats.privacy import audit

    results = run_admin_task(data_dir, lambda ctx: audit.run(ctx))
    if as_json:
        typer.echo(json.dumps([{"promise": r.promise, "text": r.text, "kept": r.kept,
                                "count": r.count, "found": dict(r.found)} for r in results],
                              indent=2))
    else:
        typer.echo(audit.report(results), nl=False)
    if any(not r.kept for r in results):
        raise typer.Exit(1)


@app.command("retention")
def retention_command(data_dir: DataDir = None) -> None:
    """Apply every retention rule now; prints what each removed."""
    from clonechats.privacy import retention

    counts = run_admin_task(data_dir, lambda ctx: retention.apply_rules(ctx))
    for name, count in counts.items():
        typer.echo(f"{name:<24} {count}")
