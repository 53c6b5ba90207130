"""How a memory's vector is stored: `{model_id, dimensions, vector}` with float32 bytes."""

from collections.abc import Sequence
from typing import Any

import numpy as np

DTYPE = np.dtype("<f4")


def pack(model_id: str, vector: Sequence[float]) -> dict[str, Any]:
    values = np.asarray(vector, dtype=DTYPE)
    if values.ndim != 1 or not values.size or not np.isfinite(values).all():
        raise ValueError("an embedding is a non-empty list of finite numbers")
    return {"model_id": model_id, "dimensions": int(values.size), "vector": values.tobytes()}


def unpack(embedding: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(bytes(embedding["vector"]), dtype=DTYPE)
