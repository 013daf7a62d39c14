"""OCR of page images with RapidOCR (PP-OCRv6 small, ONNX on onnxruntime).

The model files are the ones inside the rapidocr wheel, named by path (models/models.toml, role
`ocr`, hash-checked by `taxassist models install`), so the engine never looks for or downloads
anything. One engine per process (`ModelRegistry.get("ocr")`); onnxruntime sessions are
thread-safe for inference, a lock still serialises pages so one job does not starve another.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, the four corners of its box (pixels), the score."""

    text: str
    box: list[list[float]]
    confidence: float


class OcrEngine:
    def __init__(self, det: Path, rec: Path, cls: Path, *, threads: int = 0) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Det.model_path": str(det),
            "Rec.model_path": str(rec),
            "Cls.model_path": str(cls),
        }
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self._engine = RapidOCR(params=params)
        self._lock = threading.Lock()
        self.settings_record: dict[str, Any] = {
            "engine": f"rapidocr {version('rapidocr')}",
            "onnxruntime": version("onnxruntime"),
            "models": {"det": det.name, "rec": rec.name, "cls": cls.name},
        }

    def read(self, image: np.ndarray) -> list[OcrLine]:
        """The lines of an RGB image (H×W×3 uint8), in reading order."""
        with self._lock:
            result = self._engine(image)
        boxes = getattr(result, "boxes", None)
        texts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or texts is None or scores is None:
            return []
        # RapidOCR returns the boxes sorted top to bottom, left to right within a row.
        return [
            OcrLine(
                text=str(text),
                box=[[round(float(x), 1), round(float(y), 1)] for x, y in box],
                confidence=round(float(score), 4),
            )
            for box, text, score in zip(boxes, texts, scores, strict=True)
            if str(text).strip()
        ]
