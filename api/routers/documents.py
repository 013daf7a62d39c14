from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, status
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import CurrentUser, ServicesDep, WorkflowDep
from api.fields import DbId
from api.openapi import file_responses
from api.schemas import DocumentOut, DraftRequest
from assistant.db.files import stored_path

router = APIRouter(tags=["documents"])

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.post(
    "/cases/{case_id}/documents", response_model=DocumentOut, status_code=status.HTTP_201_CREATED
)
def draft_document(
    case_id: DbId, body: DraftRequest, user: CurrentUser, workflow: WorkflowDep
) -> DocumentOut:
    return DocumentOut.model_validate(workflow.draft(user, case_id, body.doc_type, body.inputs))


@router.get("/cases/{case_id}/documents", response_model=list[DocumentOut])
def list_documents(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> list[DocumentOut]:
    return [DocumentOut.model_validate(d) for d in workflow.documents(case_id)]


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> DocumentOut:
    return DocumentOut.model_validate(workflow.get_document(document_id))


@router.get(
    "/documents/{document_id}/file",
    response_class=FileResponse,
    responses=file_responses(DOCX_MEDIA_TYPE),
)
def download_document(
    document_id: DbId, user: CurrentUser, workflow: WorkflowDep, services: ServicesDep
) -> FileResponse:
    document = workflow.get_document(document_id)
    return FileResponse(
        stored_path(services.files, document.sha256, "文书"),
        media_type=DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}"},
    )


# -- renditions: PDF with embedded CJK fonts and an HTML preview, read from the .docx --
def _docx_bytes(document_id: int, workflow: WorkflowDep, services: ServicesDep) -> bytes:
    document = workflow.get_document(document_id)
    return stored_path(services.files, document.sha256, "文书").read_bytes()


@router.get(
    "/documents/{document_id}/pdf",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def document_pdf(
    document_id: DbId, user: CurrentUser, workflow: WorkflowDep, services: ServicesDep
) -> Response:
    from assistant.drafting.pdf import PDF_MEDIA_TYPE, docx_to_pdf

    document = workflow.get_document(document_id)
    data = docx_to_pdf(_docx_bytes(document_id, workflow, services), title=document.number)
    name = document.filename.rsplit(".", 1)[0] + ".pdf"
    return Response(
        data,
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/documents/{document_id}/html", response_class=HTMLResponse)
def document_html(
    document_id: DbId, user: CurrentUser, workflow: WorkflowDep, services: ServicesDep
) -> HTMLResponse:
    from assistant.drafting.pdf import docx_to_html

    document = workflow.get_document(document_id)
    return HTMLResponse(
        docx_to_html(_docx_bytes(document_id, workflow, services), title=document.number)
    )
