"""The public side, without sign-in: published decisions (JSON, RSS, a page), the progress
inquiry for a party's pending matter, and the 事前 information."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ClientAddress, ServicesDep
from api.fields import Line
from api.openapi import file_responses
from assistant.publicity import public

router = APIRouter(prefix="/public", tags=["public"])

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ feed.authority }} 行政执法公示</title>
<link rel="alternate" type="application/rss+xml" href="publications.rss"></head>
<body><h1>{{ feed.authority }} 行政执法公示</h1>
<h2>执法决定信息</h2>
{% for item in feed["items"] %}<article><h3>{{ item.kind }}：{{ item.fields.document_number }}</h3>
<dl>{% for key, name in names[item.record_type].items() %}<dt>{{ name }}</dt>
<dd>{{ item.fields[key] }}</dd>
{% endfor %}</dl></article>
{% else %}<p>暂无公示信息。</p>{% endfor %}
{% if feed.withdrawals %}<h2>撤回说明</h2><ul>{% for w in feed.withdrawals %}
<li>{{ w.document_number }}（{{ w.withdrawn_on }} 撤回）：{{ w.reason }}</li>
{% endfor %}</ul>{% endif %}
<h2>事前公示</h2><p>执法主体：{{ pre.authority }}</p>
<h3>执法人员（执法证件有效）</h3><ul>{% for o in pre.officers %}
<li>{{ o.name }}　执法证号：{{ o.credential_number }}（有效期至 {{ o.valid_until }}）</li>
{% endfor %}</ul>
<h3>职责权限</h3><ul>{% for p in pre.powers %}<li>{{ p.kind }}：{{ p.basis }}</li>{% endfor %}</ul>
<h3>救济渠道</h3><ul>{% for r in pre.remedies %}
<li>{{ r.name }}（{{ r.period }}）：{{ r.source }}</li>
{% endfor %}</ul></body></html>"""
)


class InquiryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_number: Line = Field(min_length=1, max_length=64)
    check_code: Line = Field(min_length=1, max_length=64)


@router.get("/publications")
def published(services: ServicesDep) -> dict[str, Any]:
    """Published decisions (masked) and the withdrawals with their reasons."""
    return public.feed(services)


@router.get(
    "/publications.rss",
    response_class=Response,
    responses=file_responses("application/rss+xml"),
)
def published_rss(request: Request, services: ServicesDep) -> Response:
    return Response(
        public.rss(services, str(request.base_url)),
        media_type="application/rss+xml; charset=utf-8",
    )


@router.get("", response_class=HTMLResponse, responses=file_responses("text/html"))
def page(services: ServicesDep) -> HTMLResponse:
    """The public page: published decisions, withdrawals and the 事前 information."""
    html = _PAGE.render(
        feed=public.feed(services),
        pre=public.pre_enforcement(services),
        names=public.FIELD_NAMES,  # per record type
    )
    return HTMLResponse(html)


@router.get("/pre-enforcement")
def pre_enforcement(services: ServicesDep) -> dict[str, Any]:
    """事前公示: authority, officers with a valid credential today, powers, procedure, remedies."""
    return public.pre_enforcement(services)


@router.post(
    "/inquiries",
    responses={
        404: {"description": "案件编号或查询码不正确"},
        429: {"description": "查询次数过多"},
    },
)
def inquiry(body: InquiryIn, address: ClientAddress, services: ServicesDep) -> dict[str, Any]:
    """非即办事项办理进度查询: the case's stage and the dates of its steps."""
    return public.progress(services, body.case_number, body.check_code, address)
