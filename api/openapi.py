"""The OpenAPI document, made to say what the API answers.

FastAPI declares only the success response and a 422 in its own shape. Every error here
leaves in the one envelope (`ErrorEnvelope`), and which errors a route can give follows
from what it is: signed in (401; 403 for the role and case rules), addressing a resource
by id (404), taking input (422), changing state (409 for workflow rules; 503 when the
authority's signing key is unusable), taking an upload (413, 415). The rules are applied
to every operation in one pass so a new route is described like the others.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_REF = "#/components/schemas/ErrorEnvelope"
DESCRIPTIONS = {
    400: "请求体无法解析",
    401: "未登录或令牌无效",
    403: "无权执行此操作（角色、承办人或职责分离规则）",
    404: "资源不存在",
    409: "与案件当前状态或办案规则冲突",
    413: "上传内容过大",
    415: "不支持的文件类型",
    422: "请求内容不符合要求",
    429: "请求过于频繁",
    503: "服务暂不可用（签名密钥或模型）",
}
WRITE_METHODS = ("post", "put", "patch", "delete")
# Routes whose answers also depend on models being installed (search, suggestions).
MODEL_PATHS = ("/search/", "/discretion/", "/statutes/", "/index/")


class ErrorBody(BaseModel):
    code: str = Field(description="snake_case error code")
    message: str = Field(description="中文说明")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """Every 4xx/5xx: {"error": {"code", "message", "details"}}."""

    error: ErrorBody


def error_codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it is."""
    codes: set[int] = set()
    if operation.get("security"):
        codes |= {401, 403, 503}  # 503: the database stayed busy past the wait
    if "{" in path:
        codes |= {404, 422}
    if operation.get("parameters") or "requestBody" in operation:
        codes.add(422)
    if "requestBody" in operation:
        codes.add(400)
    if method in WRITE_METHODS and operation.get("security"):
        codes |= {409, 503}
    if path.startswith(MODEL_PATHS):
        codes.add(503)
    body = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in body:
        codes |= {413, 415}
    return codes


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering a file: its media types (parameters dropped), JSON
    as any value, text as a string, the rest as bytes."""
    content: dict[str, Any] = {}
    for media_type in media_types:
        bare = media_type.split(";", 1)[0].strip()
        if bare == "application/json":
            content[bare] = {"schema": {}}
        elif bare.startswith("text/"):
            content[bare] = {"schema": {"type": "string"}}
        else:
            content[bare] = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "文件", "content": content}}


def _error_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or DESCRIPTIONS.get(status, "错误"),
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the generator that adds the error responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorBody, ErrorEnvelope):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)  # FastAPI's own shape; ours is the envelope
                declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
                for status in sorted(error_codes(path, method, operation) | declared):
                    description = responses.get(str(status), {}).get("description")
                    responses[str(status)] = _error_response(status, description)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
