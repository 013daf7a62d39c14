"""Evidence documents: upload (PDF, DOCX, PNG/JPEG, scans), their reading, the 证据清单."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from api.deps import CurrentUser, JobQueueDep, ServicesDep
from api.fields import DbId, Line
from api.openapi import file_responses
from api.routers.jobs import job_out
from api.schemas import EvidenceAccepted, EvidenceListOut, EvidenceOut
from assistant.cases.evidence import add_evidence, evidence_for, evidence_list
from assistant.errors import PayloadTooLarge
from assistant.evidence.formats import MEDIA_TYPES

router = APIRouter(tags=["evidence"])

# Multipart framing around the file; the file itself is limited exactly while staging.
MULTIPART_SLACK = 64 * 1024


@router.post(
    "/cases/{case_id}/evidence",
    response_model=EvidenceAccepted,
    status_code=status.HTTP_202_ACCEPTED,
)
def upload_evidence(
    case_id: DbId,
    request: Request,
    response: Response,
    user: CurrentUser,
    services: ServicesDep,
    jobs: JobQueueDep,
    file: UploadFile = File(description="PDF (text or scanned), DOCX, PNG or JPEG"),
    title: Line | None = Form(default=None, max_length=200, description="e.g. 发票清单"),
) -> EvidenceAccepted:
    """Store the original (SHA-256) and start its reading job: 202 with the job's URLs.

    The type is decided from the bytes: anything but PDF, DOCX, PNG or JPEG is 415
    `unsupported_evidence_type`; a damaged file 422 `corrupt_file` (`encrypted_pdf`); a file,
    page count or image over the limits 413. PDF pages with a text layer are read from it,
    images and scanned pages by OCR; follow `GET /jobs/{id}`, then `GET /evidence/{id}`.
    """
    limit = services.settings.evidence_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise PayloadTooLarge(
            "file_too_large",
            f"文件超过大小上限（{limit // (1024 * 1024)} MB）。",
            details={"max_bytes": limit},
        )
    upload = add_evidence(
        services, user, case_id, file.file, filename=file.filename or "evidence", title=title
    )
    jobs.submit(upload.job.id)
    response.headers["Location"] = f"/jobs/{upload.job.id}"
    return EvidenceAccepted(
        evidence=EvidenceOut.model_validate(upload.evidence), job=job_out(upload.job)
    )


@router.get("/cases/{case_id}/evidence", response_model=EvidenceListOut)
def list_evidence(case_id: DbId, user: CurrentUser, services: ServicesDep) -> EvidenceListOut:
    """证据清单: numbered, with type, pages, SHA-256, how it was read and its signed events."""
    return EvidenceListOut.model_validate(evidence_list(services, user, case_id))


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut)
def get_evidence(evidence_id: DbId, user: CurrentUser, services: ServicesDep) -> EvidenceOut:
    """The evidence file's record and every line read, with page, box and confidence."""
    return EvidenceOut.model_validate(evidence_for(services, user, evidence_id))


@router.get(
    "/evidence/{evidence_id}/file",
    response_class=Response,
    responses=file_responses(*MEDIA_TYPES.values()),
)
def get_evidence_file(evidence_id: DbId, user: CurrentUser, services: ServicesDep) -> Response:
    """The original file, byte for byte as submitted."""
    evidence = evidence_for(services, user, evidence_id)
    body = services.files.path_for(evidence.sha256).read_bytes()
    ext = {v: k for k, v in MEDIA_TYPES.items()}.get(evidence.media_type, "bin")
    return Response(
        body,
        media_type=evidence.media_type,
        headers={"Content-Disposition": f'attachment; filename="evidence-{evidence.id}.{ext}"'},
    )
