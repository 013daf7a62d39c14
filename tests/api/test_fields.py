"""The API's text and number types refuse what later breaks documents and the database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.routers.document_revisions import EditRequest
from api.routers.recordings import SegmentCorrection, SpeakerRelabel
from api.schemas import DraftRequest
from assistant.limits import clean_text, text_problem


@pytest.mark.parametrize(
    "value",
    [
        "a\x01",
        "a\x00b",
        "a\uffff",
        "\x1b[2J",
        "\u200b",
        "\u200b\u200d\ufeff",
        "名\u202e称",
        "\ud800",
    ],
)
def test_unclean_text_is_refused(value: str) -> None:
    assert text_problem(value) is not None
    with pytest.raises(ValueError):
        clean_text(value)


@pytest.mark.parametrize("value", ["", "   ", "示例商贸有限公司", "第一行\n第二行\t缩进", "𠀀字"])
def test_ordinary_text_passes(value: str) -> None:
    assert text_problem(value, multiline=True) is None


def test_line_breaks_only_in_multiline_text() -> None:
    assert text_problem("一\n二") is not None
    assert text_problem("一\n二", multiline=True) is None


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (SegmentCorrection, {"text": "我叫张三\x01"}),
        (SegmentCorrection, {"speaker": "\u200b"}),
        (SpeakerRelabel, {"new": "询问人\x1b"}),
        (EditRequest, {"text": "决定书\x00"}),
        (DraftRequest, {"doc_type": "tax_handling_decision", "inputs": {"reason": "x\x01"}}),
    ],
)
def test_request_bodies_refuse_control_characters(model: type, body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(body)  # type: ignore[attr-defined]


def test_text_is_nfc() -> None:
    assert SegmentCorrection.model_validate({"text": "e\u0301"}).text == "\u00e9"
