"""The `clonechats` command: serve, worker, admin tools."""

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from clonechats.settings import Settings
from clonechats.telemetry.logs import configure_logging

app = typer.Typer(help="Clone Chats: self-hostable AI personas.", no_args_is_help=True)
admin = typer.Typer(help="Operator tools.", no_args_is_help=True)
app.add_typer(admin, name="admin")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def load_settings(data_dir: Path | None = None, *, dev: bool = False) -> Settings:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if dev:
        overrides["dev_mode"] = True
    settings = Settings(**overrides)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


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

    settings = load_settings(data_dir, dev=dev)
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False,
                access_log=False, log_config=None, server_header=False)


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run background jobs in this process until interrupted."""
    from clonechats.context import open_context
    from clonechats.jobs.runner import JobRunner

    settings = load_settings(data_dir)

    async def run() -> None:
        ctx = await open_context(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                               settings=settings.jobs)
            typer.echo(f"worker {runner.owner} running {len(ctx.jobs.kinds())} job kinds")
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


def main() -> None:
    app()
