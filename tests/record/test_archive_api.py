"""一户式 archive over HTTP: export, verify, import all or nothing; foreign keys refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistant.record.keys import key_id_for, public_raw
from assistant.record.service import export_keyring
from assistant.services import build_services
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import DEMO_USCC, demo_case_payload, make_settings
from tests.core.test_cli import run_cli


def _resign(data: bytes, edit: bool) -> bytes:
    """What a forger can do: change the manifest and sign it with a key of their own."""
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json"))
    if edit:
        manifest["rows"]["case_events"][0]["details"]["forged"] = "改写的记录"
    key = Ed25519PrivateKey.generate()
    raw = public_raw(key.public_key())
    manifest["signing_key"] = key_id_for(raw)
    manifest["signing_keys"].append(
        {
            "key_id": key_id_for(raw),
            "public_key": raw.hex(),
            "valid_from": manifest["signing_keys"][0]["valid_from"],
            "valid_until": None,
        }
    )
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name == "manifest.json":
                target.writestr(name, body)
            elif name == "manifest.sig":
                target.writestr(name, key.sign(body).hex())
            else:
                target.writestr(name, source.read(name))
    return out.getvalue()


def _upload(data: bytes, keyring: str | None = None) -> dict[str, tuple[str, bytes]]:
    files = {"file": ("a.zip", data)}
    if keyring is not None:
        files["keyring"] = ("keyring.json", keyring.encode())
    return files


def test_archive_export_verify_import_over_http(tmp_path: Path, shared_index_dir: Path) -> None:
    source = make_settings(tmp_path / "source")
    prepare_data_dir(source, shared_index_dir)
    with running_app(source) as client:
        officer, admin = login(client, "officer"), login(client, "admin")
        case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
        assert_error(client.get(f"/archives/{DEMO_USCC}", headers=officer), 403, "role_not_allowed")
        assert_error(
            client.get("/archives/91110000000000000X", headers=admin), 404, "taxpayer_not_found"
        )
        response = client.get(f"/archives/{DEMO_USCC}", headers=admin)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        data = response.content
    keyring = export_keyring(build_services(source))
    forged = _resign(data, edit=True)
    resigned = _resign(data, edit=False)
    # The same check on the command line: --keyring refuses the re-signed archive.
    (tmp_path / "keyring.json").write_text(keyring, encoding="utf-8")
    for name, blob in {"good.zip": data, "resigned.zip": resigned}.items():
        (tmp_path / name).write_bytes(blob)
    args = ("record", "archive", "verify", "--keyring", str(tmp_path / "keyring.json"))
    assert run_cli(*args, str(tmp_path / "good.zip"), data_dir=source.data_dir).returncode == 0
    refused = run_cli(*args, str(tmp_path / "resigned.zip"), data_dir=source.data_dir)
    assert refused.returncode == 1 and "archive_key_untrusted" in refused.stderr

    target = make_settings(tmp_path / "target")
    prepare_data_dir(target, shared_index_dir)
    with running_app(target) as client:
        officer, admin = login(client, "officer"), login(client, "admin")
        assert_error(
            client.post("/archives/verify", files=_upload(data, keyring), headers=officer),
            403,
            "role_not_allowed",
        )
        ok = client.post("/archives/verify", files=_upload(data, keyring), headers=admin)
        assert ok.status_code == 200 and ok.json()["uscc"] == DEMO_USCC, ok.text
        assert ok.json()["keyring_checked"] is True
        bad = {
            "archive_invalid": b"not a zip at all",
            "archive_signature_invalid": _tamper_manifest(data),
        }
        for code, blob in bad.items():
            assert_error(
                client.post("/archives/verify", files=_upload(blob), headers=admin), 422, code
            )
        # A re-signed archive is self-consistent, so only the published keyring catches it.
        assert (
            client.post("/archives/verify", files=_upload(resigned), headers=admin).status_code
            == 200
        )
        assert_error(
            client.post("/archives/verify", files=_upload(resigned, keyring), headers=admin),
            422,
            "archive_key_untrusted",
        )
        assert_error(
            client.post("/archives/import", files=_upload(resigned, keyring), headers=admin),
            422,
            "archive_key_untrusted",
        )
        # A forged event passes the manifest check but not the record check: nothing is kept.
        error = assert_error(
            client.post("/archives/import", files=_upload(forged), headers=admin),
            409,
            "archive_record_invalid",
        )
        assert error["details"]["cases"][0]["problems"][0]["kind"] == "event_altered"  # type: ignore[index]
        assert_error(client.get(f"/archives/{DEMO_USCC}", headers=admin), 404, "taxpayer_not_found")
        assert_error(client.get(f"/cases/{case_id}", headers=admin), 404, "case_not_found")
        assert_error(
            client.post("/archives/import", files=_upload(data), headers=officer),
            403,
            "role_not_allowed",
        )

        imported = client.post("/archives/import", files=_upload(data, keyring), headers=admin)
        assert imported.status_code == 201, imported.text
        assert imported.json()["ok"] is True
        assert client.get(f"/cases/{case_id}/record/verify", headers=admin).json()["ok"] is True
        assert_error(
            client.post("/archives/import", files=_upload(data), headers=admin),
            409,
            "taxpayer_exists",
        )


def _tamper_manifest(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json"))
    manifest["rows"]["cases"][0]["facts"] = "改写的事实"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            body = source.read(name)
            if name == "manifest.json":
                body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()
            target.writestr(name, body)
    return out.getvalue()
