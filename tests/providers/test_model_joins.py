"""Models shipped in parts are joined on first use; several processes (web servers, workers)
may do that at the same moment into one shared folder, and each must end with a whole model."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from clonechats.providers.speech import local_kokoro, local_whisper

PROCESSES = 3

JOIN_KOKORO = """
import sys
from pathlib import Path
from clonechats.providers.speech import local_kokoro
print(local_kokoro.join_model(Path(sys.argv[1])))
"""

JOIN_WHISPER = """
import sys
from pathlib import Path
from clonechats.providers.speech import local_whisper
print(local_whisper.join_base_model(Path(sys.argv[1]) / "whisper-base"))
"""


def join_at_once(script: str, folder: Path) -> list[str]:
    runs = [subprocess.Popen([sys.executable, "-c", script, str(folder)],  # noqa: S603
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, [err for _, err in results]
    return [out.strip() for out, _ in results]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.skipif(not local_kokoro.available(), reason="the Kokoro packages are not installed")
def test_processes_joining_kokoro_at_once_all_get_the_whole_model(tmp_path: Path) -> None:
    paths = join_at_once(JOIN_KOKORO, tmp_path)

    model = tmp_path / local_kokoro.MODEL_FILE
    assert set(paths) == {str(model)}
    package = local_kokoro._package_dir(local_kokoro.PACKAGE)
    assert package is not None
    assert sha256(model) == (package / "data" / "model.sha256").read_text().strip()
    assert [p.name for p in tmp_path.iterdir()] == [model.name]  # no partial file left


@pytest.mark.skipif(local_whisper.base_parts() is None,
                    reason="the multilingual Whisper packages are not installed")
def test_processes_joining_whisper_at_once_all_get_the_whole_model(tmp_path: Path) -> None:
    paths = join_at_once(JOIN_WHISPER, tmp_path)

    target = tmp_path / "whisper-base"
    assert set(paths) == {str(target)}
    parts = local_whisper.base_parts()
    assert parts is not None
    assert (target / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]  # no partial folder left
