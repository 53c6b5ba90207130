"""What the commands share: the settings a command runs with, and running one task in a fresh
context. `cli.py` and each domain's own commands (`privacy/cli.py`) import this; it imports no
command, so a domain's commands never need the `clonechats` command itself."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from clonechats.settings import Settings
from clonechats.telemetry.logs import configure_logging

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def load_settings(data_dir: Path | None = None, *, dev: bool = False) -> Settings:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if dev:
        overrides["dev_mode"] = True
    settings = Settings(**overrides)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def run_admin_task(data_dir: Path | None, task: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `task(ctx)` in a fresh context; a refusal ends the command with its message (exit 1)."""
    from clonechats.context import open_context
    from clonechats.errors import AppError

    settings = load_settings(data_dir)

    async def run() -> Any:
        ctx = await open_context(settings)
        try:
            return await task(ctx)
        finally:
            await ctx.close()

    try:
        return asyncio.run(run())
    except AppError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(1) from None
