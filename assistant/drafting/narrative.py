"""The 违法事实 narrative: the template (default) or an LLM, whose output must pass the guard.

Why optional and guarded: bureaus run private Qwen/DeepSeek models behind OpenAI-compatible
servers (vLLM, Ollama) and a fluent narrative saves officers time, but a model can invent a
number, a date, a name or an article. Its text is accepted only when the fact guard finds
nothing in it that the record lacks; otherwise (or when the server fails) the deterministic
template narrative — the officer's facts as recorded — is used, and the rejected spans are
reported so the officer sees why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

from assistant.drafting.guard import FactRecord, Finding, check_draft
from assistant.drafting.text import to_document_text
from assistant.errors import TaxAssistError
from assistant.knowledge.statutes import StatuteBook

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是税务稽查文书助手。请根据案件记录和询问笔录，用规范、客观的公文语言撰写"
    "《税务行政处罚决定书》中“违法事实”一段。只能使用记录中出现的金额、日期、名称、"
    "证件号码和法条，不得推测或补充记录中没有的事实。只输出这一段正文。"
)


class GeneratorUnavailable(TaxAssistError):
    """The narrative backend did not answer usably; the template narrative is used."""

    status_code = 503


@dataclass(frozen=True)
class NarrativeRequest:
    facts: str  # the officer's recorded facts (also the template narrative)
    evidence: tuple[str, ...] = ()
    transcript: str = ""  # the interview transcript, corrected by the officer
    party_name: str = ""


class NarrativeGenerator(Protocol):
    name: str

    def generate(self, request: NarrativeRequest) -> str: ...


class TemplateNarrative:
    """The default: the recorded facts, normalised to document punctuation. Needs no model."""

    name = "template"

    def generate(self, request: NarrativeRequest) -> str:
        return to_document_text(request.facts)


class OpenAICompatibleGenerator:
    """`POST {base_url}/chat/completions` as vLLM, Ollama and hosted APIs speak it."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        temperature: float = 0.0,
        max_tokens: int = 800,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.transport = transport

    def _messages(self, request: NarrativeRequest) -> list[dict[str, str]]:
        parts = [f"当事人：{request.party_name}", f"案件记录的违法事实：{request.facts}"]
        if request.evidence:
            parts.append("证据：" + "；".join(request.evidence))
        if request.transcript:
            parts.append(f"询问笔录：{request.transcript}")
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "\n".join(parts)},
        ]

    def generate(self, request: NarrativeRequest) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": self._messages(request),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": False,
        }
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(
                    f"{self.base_url}/chat/completions", json=body, headers=headers
                )
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise GeneratorUnavailable(
                "generator_unavailable",
                "文书生成模型服务不可用，已改用模板内容。",
                details={"backend": self.base_url, "error": type(exc).__name__},
            ) from exc
        if not isinstance(content, str) or not content.strip():
            raise GeneratorUnavailable(
                "generator_unavailable", "文书生成模型未返回内容，已改用模板内容。", details={}
            )
        return content


@dataclass(frozen=True)
class NarrativeResult:
    text: str
    source: Literal["llm", "template"]
    generator: str
    rejected: tuple[Finding, ...] = ()  # the guard's findings in a rejected LLM text
    error: str | None = None
    rejected_text: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _clean(text: str) -> str:
    """Model output as one paragraph per line, document punctuation, no markdown decoration."""
    lines = [ln.strip().strip("*#>").strip() for ln in text.strip().splitlines()]
    return to_document_text("\n".join(ln for ln in lines if ln))


def narrate(
    request: NarrativeRequest,
    record: FactRecord,
    book: StatuteBook,
    generator: NarrativeGenerator | None = None,
) -> NarrativeResult:
    """The narrative to print: the generator's when it passes the guard, else the template's."""
    template = TemplateNarrative()
    if generator is None or isinstance(generator, TemplateNarrative):
        return NarrativeResult(template.generate(request), "template", template.name)
    try:
        text = _clean(generator.generate(request))
    except GeneratorUnavailable as exc:
        log.warning("narrative generator failed: %s", exc.details)
        return NarrativeResult(
            template.generate(request), "template", generator.name, error=exc.code
        )
    # The transcript is part of the record: facts stated there are facts of the record.
    sources: Sequence[str] = (*record.sources, request.transcript)
    checked = FactRecord(**{**record.__dict__, "sources": tuple(sources)})
    report = check_draft(text, checked, book, whole_document=False)
    if not report.ok:
        return NarrativeResult(
            template.generate(request),
            "template",
            generator.name,
            rejected=tuple(report.findings),
            rejected_text=text,
        )
    return NarrativeResult(text, "llm", generator.name)
