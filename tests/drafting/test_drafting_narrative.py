"""LLM narrative over the OpenAI protocol, against a fake server on 127.0.0.1: a faithful text
is used; a text with a planted wrong fact, a server error or garbage falls back to the template."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.config import PROJECT_ROOT
from assistant.drafting.guard import FactRecord
from assistant.drafting.narrative import (
    NarrativeRequest,
    OpenAICompatibleGenerator,
    TemplateNarrative,
    narrate,
)
from assistant.knowledge.statutes import StatuteBook
from tests.drafting.test_drafting_documents import make_ctx

TRANSCRIPT = "问：为什么逾期申报？答：会计在2025年4月10日离职，交接时遗漏了。"
FAITHFUL = (
    "经查，示例商贸有限公司2025年3月增值税纳税申报逾期45日，"
    "经责令限期改正后于2025年5月30日补办申报。该公司会计于2025年4月10日离职，交接时遗漏申报。"
)


class FakeOpenAI:
    """Answers /v1/chat/completions with whatever `reply` holds; records the requests."""

    def __init__(self) -> None:
        self.reply: Any = FAITHFUL
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if fake.status != 200:
                    payload = b'{"error": "boom"}'
                elif isinstance(fake.reply, bytes):
                    payload = fake.reply
                else:
                    payload = json.dumps(
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion",
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": fake.reply},
                                    "finish_reason": "stop",
                                }
                            ],
                        }
                    ).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reply, server.status = FAITHFUL, 200
    server.requests.clear()
    return server


def run(fake: FakeOpenAI) -> Any:
    ctx = make_ctx()
    request = NarrativeRequest(
        facts=ctx.facts, evidence=ctx.evidence, transcript=TRANSCRIPT, party_name=ctx.party.name
    )
    generator = OpenAICompatibleGenerator(fake.url, "qwen2.5-7b-instruct", api_key="k", timeout_s=5)
    book = StatuteBook.load([PROJECT_ROOT / "corpora"])
    return narrate(request, FactRecord.from_context(ctx), book, generator)


def test_faithful_narrative_is_used_and_request_speaks_openai(fake: FakeOpenAI) -> None:
    result = run(fake)
    assert result.source == "llm", result.rejected
    assert result.text == FAITHFUL
    [sent] = fake.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer k"
    assert sent["body"]["model"] == "qwen2.5-7b-instruct"
    assert [m["role"] for m in sent["body"]["messages"]] == ["system", "user"]
    assert TRANSCRIPT in sent["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    ("planted", "kind"),
    [
        (FAITHFUL.replace("逾期45日", "逾期54日"), "number"),
        (FAITHFUL.replace("2025年5月30日", "2025年6月30日"), "date"),
        (FAITHFUL + "少缴税款12,000.00元。", "amount"),
        (FAITHFUL.replace("示例商贸有限公司", "示范商贸有限公司"), "name"),
        (FAITHFUL + "违反了《中华人民共和国税收征收管理法》第六十四条的规定。", "citation"),
        (FAITHFUL + "（统一社会信用代码91150100MA0N7Y2K99）", "id"),
    ],
)
def test_planted_wrong_fact_rejects_the_llm_text(fake: FakeOpenAI, planted: str, kind: str) -> None:
    fake.reply = planted
    result = run(fake)
    assert result.source == "template"
    assert result.text == TemplateNarrative().generate(NarrativeRequest(facts=make_ctx().facts))
    assert any(f.kind == kind for f in result.rejected), [f.as_dict() for f in result.rejected]
    assert result.rejected_text


@pytest.mark.parametrize("failure", ["status", "garbage", "empty"])
def test_server_failure_falls_back_to_the_template(fake: FakeOpenAI, failure: str) -> None:
    if failure == "status":
        fake.status = 500
    elif failure == "garbage":
        fake.reply = b"not json"
    else:
        fake.reply = "   "
    result = run(fake)
    assert result.source == "template" and result.error == "generator_unavailable"


def test_no_generator_means_template() -> None:
    ctx = make_ctx()
    book = StatuteBook.load([PROJECT_ROOT / "corpora"])
    result = narrate(NarrativeRequest(facts=ctx.facts), FactRecord.from_context(ctx), book)
    assert result.source == "template" and result.generator == "template"
