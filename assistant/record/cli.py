"""`taxassist record …`: verify a case's record, manage the authority's signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

record_app = typer.Typer(help="The signed full-process record: verify, keys.", no_args_is_help=True)
keys_app = typer.Typer(help="The authority's Ed25519 signing keys.", no_args_is_help=True)
record_app.add_typer(keys_app, name="keys")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@record_app.command("verify")
def verify(
    case_id: int,
    keyring: Annotated[
        Path | None,
        typer.Option("--keyring", exists=True, help="trust only keys in this exported keyring"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a case's chain, signatures, files and recorded content; exit 2 and name each
    problem when it fails (content of pre-upgrade events is a note, not a failure)."""
    from assistant.cli_common import cli_services, print_json
    from assistant.record.service import verify_record

    report = verify_record(cli_services(), case_id, keyring_file=keyring)
    if as_json:
        print_json(report.to_dict())
    else:
        if report.ok:
            typer.echo(
                f"案件 {case_id} 的记录完整：{report.events} 个事件、{report.files} 个文件"
                "及其记录的内容均验证通过。"
            )
        for problem in [*report.problems, *report.notes]:
            typer.echo(f"[{problem.kind}] {problem.message}")
    if not report.ok:
        raise SystemExit(2)


@keys_app.command("generate")
def keys_generate(as_json: JsonFlag = False) -> None:
    """Create the first signing key (refused when one is active: rotate instead)."""
    from assistant.cli_common import cli_services, print_json
    from assistant.record.service import generate_key

    print_json(generate_key(cli_services(), rotate=False))


@keys_app.command("rotate")
def keys_rotate(as_json: JsonFlag = False) -> None:
    """End the active key's validity now and sign from now on with a new key."""
    from assistant.cli_common import cli_services, print_json
    from assistant.record.service import generate_key

    print_json(generate_key(cli_services(), rotate=True))


@keys_app.command("list")
def keys_list(as_json: JsonFlag = False) -> None:
    """Every public key with its validity period."""
    from assistant.cli_common import cli_services, print_json
    from assistant.record.service import list_keys

    print_json(list_keys(cli_services()))


@keys_app.command("export")
def keys_export(
    out: Annotated[Path, typer.Option("--out", help="write the public keyring JSON here")],
) -> None:
    """Publish the public keys outside the database: the anchor for `record verify --keyring`."""
    from assistant.cli_common import cli_services
    from assistant.record.service import export_keyring

    out.write_text(export_keyring(cli_services()), encoding="utf-8")
    typer.echo(str(out))


credentials_app = typer.Typer(help="Enforcement credentials (执法证件).", no_args_is_help=True)


@credentials_app.command("add")
def credentials_add(
    username: Annotated[str, typer.Option()],
    number: Annotated[str, typer.Option()],
    issued_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonFlag = False,
) -> None:
    """Register an officer's enforcement credential with its validity."""
    from datetime import date

    from assistant.cases.credentials import add_credential, credentials_of
    from assistant.cli_common import cli_services, print_json

    services = cli_services()
    with services.db.session() as session:
        add_credential(
            session,
            username,
            number=number,
            issued_on=date.fromisoformat(issued_on),
            valid_until=date.fromisoformat(valid_until),
        )
        print_json(credentials_of(session, username))


@credentials_app.command("revoke")
def credentials_revoke(number: Annotated[str, typer.Option()], as_json: JsonFlag = False) -> None:
    """Revoke a credential: its holder can no longer act from now on."""
    from assistant.cases.credentials import revoke_credential
    from assistant.cli_common import cli_services, print_json

    with cli_services().db.session() as session:
        revoke_credential(session, number)
    print_json({"number": number, "revoked": True})


@credentials_app.command("list")
def credentials_list(username: Annotated[str, typer.Option()], as_json: JsonFlag = False) -> None:
    from assistant.cases.credentials import credentials_of
    from assistant.cli_common import cli_services, print_json

    with cli_services().db.session() as session:
        print_json(credentials_of(session, username))


archive_app = typer.Typer(help="一户式 archive of one taxpayer.", no_args_is_help=True)
record_app.add_typer(archive_app, name="archive")


KeyringFlag = Annotated[
    Path | None,
    typer.Option(
        "--keyring", exists=True, help="trust only keys in this published keyring (keys export)"
    ),
]


def _load_keyring(path: Path | None) -> list[Any] | None:
    from assistant.record.keys import keyring_from_json

    return None if path is None else keyring_from_json(path.read_text(encoding="utf-8"))


@archive_app.command("export")
def archive_export(
    uscc: Annotated[str, typer.Option(help="统一社会信用代码 / ID number")],
    out: Annotated[Path, typer.Option(help="the .zip to write")],
) -> None:
    """Everything about one taxpayer in one signed zip with a manifest and checksums."""
    from assistant.cli_common import cli_services
    from assistant.record.archive import write_archive

    typer.echo(str(write_archive(cli_services(), uscc, out)))


@archive_app.command("verify")
def archive_verify(path: Path, keyring: KeyringFlag = None, as_json: JsonFlag = False) -> None:
    """Check the archive's signature and every file's checksum (against --keyring if given)."""
    from assistant.cli_common import cli_settings, print_json
    from assistant.record.archive import ArchiveLimits, verify_archive

    with path.open("rb") as handle:
        limits = ArchiveLimits.from_settings(cli_settings())
        manifest = verify_archive(handle, _load_keyring(keyring), limits)
    print_json({"ok": True, "uscc": manifest["uscc"], "files": len(manifest["files"])})


@archive_app.command("import")
def archive_import(path: Path, keyring: KeyringFlag = None, as_json: JsonFlag = False) -> None:
    """Load an archive into this data directory and re-verify every case's signed record."""
    from assistant.cli_common import cli_services, print_json
    from assistant.record.archive import import_archive

    with path.open("rb") as handle:
        report = import_archive(cli_services(), handle, _load_keyring(keyring))
    print_json(report)
    if not report["ok"]:
        raise SystemExit(2)
