"""OCR of page images with RapidOCR (PP-OCRv6 small, ONNX on onnxruntime).

The model files are the ones inside the rapidocr wheel, named by path (models/models.toml, role
`ocr`, hash-checked by `taxassist models install`), so the engine never looks for or downloads
anything. One engine per process (`ModelRegistry.get("ocr")`); onnxruntime sessions are
thread-safe for inference, a lock still serialises pages so one job does not starve another.

Orientation is decided per page, not per line: RapidOCR's line direction classifier turned
whole printed lines (Chinese with figures) upside down on scanned decisions, and the recogniser
then read a 40-character line as "2" (benchmarks/ocr_eval.py: 3 of 27 pages lost a line). So the
classifier is off; a page read with low confidence is read again turned 180° and the better
reading kept, its boxes mapped back onto the page as submitted.
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


# Below this mean line confidence a page is tried upside down as well (upright printed pages
# read at 0.95–1.0 in benchmarks/ocr_eval.py).
UPRIGHT_CONFIDENCE = 0.85


def mean_confidence(lines: list[OcrLine]) -> float:
    return sum(line.confidence for line in lines) / len(lines) if lines else 0.0


class OcrEngine:
    def __init__(self, det: Path, rec: Path, cls: Path, *, threads: int = 0) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Det.model_path": str(det),
            "Rec.model_path": str(rec),
            "Cls.model_path": str(cls),
            "Global.use_cls": False,
        }
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self._engine = RapidOCR(params=params)
        self._lock = threading.Lock()
        self.settings_record: dict[str, Any] = {
            "engine": f"rapidocr {version('rapidocr')}",
            "onnxruntime": version("onnxruntime"),
            "models": {"det": det.name, "rec": rec.name},
            "orientation": f"page: read turned 180° below mean confidence {UPRIGHT_CONFIDENCE}",
        }

    def read(self, image: np.ndarray) -> list[OcrLine]:
        """The lines of an RGB image (H×W×3 uint8), in reading order; an upside-down page is
        read turned, with boxes on the image as given."""
        lines = self._read_once(image)
        if mean_confidence(lines) >= UPRIGHT_CONFIDENCE:
            return lines
        turned = self._read_once(np.ascontiguousarray(image[::-1, ::-1]))
        if mean_confidence(turned) <= mean_confidence(lines):
            return lines
        height, width = image.shape[:2]
        return [
            OcrLine(
                text=line.text,
                box=[[round(width - x, 1), round(height - y, 1)] for x, y in line.box],
                confidence=line.confidence,
            )
            for line in turned
        ]

    def _read_once(self, image: np.ndarray) -> list[OcrLine]:
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
