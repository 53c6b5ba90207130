"""The `clonechats` command: serve, worker, admin tools.

Each command imports what it runs inside itself, so `clonechats --help` and any one command load
only what they need (the app, the context and its providers are large).
"""

import asyncio
import signal
import sys
from enum import StrEnum
from typing import Annotated

import typer

from clonechats.cli_tasks import DataDir, load_settings, run_admin_task
from clonechats.privacy import cli as privacy_cli
from clonechats.providers.llm import model_cli

app = typer.Typer(help="Clone Chats: self-hostable AI personas.", no_args_is_help=True)
admin = typer.Typer(help="Operator tools.", no_args_is_help=True)
app.add_typer(admin, name="admin")
app.add_typer(privacy_cli.app, name="privacy")
app.add_typer(model_cli.app, name="model")

@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
    dev: Annotated[bool, typer.Option("--dev", help="Development mode.")] = False,
) -> None:
    """Run the web app (and, with the embedded engine, the background jobs)."""
    import uvicorn

    from clonechats.app import create_app

    settings = load_settings(data_dir, dev=dev).served_at(host, port)
    model_cli.refuse_unusable_models(settings.llm)
    from clonechats.web.server_protocol import uvicorn_options

    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False,
                access_log=False, log_config=None, server_header=False,
                **uvicorn_options(settings))


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run background jobs in this process until interrupted."""
    from clonechats.context import open_context
    from clonechats.jobs.runner import JobRunner
    from clonechats.privacy import startup

    settings = load_settings(data_dir)
    model_cli.refuse_unusable_models(settings.llm)

    async def run() -> None:
        ctx = await open_context(settings)
        await startup.prepare(ctx)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                               settings=settings.jobs)
            typer.echo(f"worker {runner.owner} running {len(ctx.jobs.kinds())} job kinds")
            if settings.llm.local_preload and ctx.llm is not None:
                # after the start line: a model's load silences the process's output meanwhile
                ctx.llm.preload()  # jobs may reply with the local model
            await runner.run_forever(stop)
        finally:
            await ctx.close()

    asyncio.run(run())


@admin.command("jobs")
def admin_jobs(data_dir: DataDir = None) -> None:
    """Show background jobs by status, and the latest dead-lettered ones."""
    from clonechats.context import open_context
    from clonechats.jobs import repo

    settings = load_settings(data_dir)

    async def run() -> None:
        ctx = await open_context(settings)
        try:
            for status, count in sorted((await repo.count_by_status(ctx.db)).items()):
                typer.echo(f"{status:8} {count}")
            for job in await repo.list_by_status(ctx.db, repo.DEAD, limit=10):
                typer.echo(f"dead {job['_id']} {job['kind']}: {job['last_error']}")
        finally:
            await ctx.close()

    asyncio.run(run())


class Role(StrEnum):
    user = "user"
    admin = "admin"


@admin.command("create-user")
def admin_create_user(
    email: Annotated[str, typer.Option("--email", help="The account's email address.")],
    role: Annotated[Role, typer.Option("--role", help="The account's role.")] = Role.user,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input.",
    )] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an account with a verified email (no birth date asked); prints its id."""
    from clonechats.admin import service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = run_admin_task(data_dir, lambda ctx: service.create_user(
        ctx, email=email, password=password, role=role.value))
    typer.echo(user["_id"])


@admin.command("set-role")
def admin_set_role(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    role: Annotated[Role, typer.Argument(help="The new role.")],
    data_dir: DataDir = None,
) -> None:
    """Change an account's role; it is signed out everywhere."""
    from clonechats.admin import service

    user = run_admin_task(data_dir, lambda ctx: service.set_role_by_email(
        ctx, email=email, role=role.value))
    typer.echo(f"{user['email']} is now {user['role']}.")


@admin.command("check-ledger")
def admin_check_ledger(data_dir: DataDir = None) -> None:
    """Prove every credit balance equals the sum of its ledger; exit 1 if one does not."""
    from clonechats.billing import ledger

    mismatches = run_admin_task(data_dir, lambda ctx: ledger.check_balances(ctx.db))
    for item in mismatches:
        typer.echo(f"mismatch {item['user_id']}: balance {item['balance']}, "
                   f"ledger {item['ledger_sum']}", err=True)
    if mismatches:
        raise typer.Exit(1)
    typer.echo("ok: every balance equals the sum of its ledger")


def main() -> None:
    app()
