"""The openai-whisper reference backend on a checkpoint converted from the bundled model.

Needs the optional `whisper-ref` extra (openai-whisper + torch); without it the tests that run
the reference implementation skip and say so. The converter's reader needs only numpy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import MODELS_DIR, PROJECT_ROOT
from assistant.errors import ModelUnavailable
from assistant.registry import ModelRegistry
from assistant.services import build_services
from assistant.transcription import FasterWhisperBackend, to_simplified
from assistant.transcription.convert import read_ctranslate2, to_openai_state
from assistant.transcription.evaluation import edit_distance, normalize_for_cer
from tests.conftest import FIXTURES, make_settings

CLI = (sys.executable, "-c", "from assistant.cli import main; main()")
HAS_REFERENCE = all(importlib.util.find_spec(m) for m in ("whisper", "torch"))
requires_reference = pytest.mark.skipif(
    not HAS_REFERENCE,
    reason="openai-whisper/torch not installed (optional extra: pip install -e '.[whisper-ref]')",
)


def test_reader_maps_every_ctranslate2_variable() -> None:
    spec, variables = read_ctranslate2(MODELS_DIR / "whisper-base" / "model.bin")
    assert spec == "WhisperSpec"
    # the tied output projection is an alias of the token embedding in model.bin
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    dims, state = to_openai_state(variables)
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 512,
        "n_audio_head": 8,
        "n_audio_layer": 6,
        "n_vocab": 51865,
        "n_text_ctx": 448,
        "n_text_state": 512,
        "n_text_head": 8,
        "n_text_layer": 6,
    }
    assert "encoder.blocks.0.attn.key.bias" not in state  # Whisper's key has no bias
    fused = variables["encoder/layer_0/self_attention/linear_0/bias"]
    assert not fused[512:1024].any()  # ... which is why CTranslate2's fused k bias is zero
    assert state["decoder.blocks.5.cross_attn.value.weight"].shape == (512, 512)
    assert sum(v.size for v in state.values()) == 72_593_920  # whisper-base: 72.6 M parameters


def test_missing_checkpoint_is_model_not_installed(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", asr_backend="openai-whisper", asr_checkpoint=tmp_path / "none.pt"
    )
    with pytest.raises(ModelUnavailable) as error:
        build_services(settings).transcriber()
    assert error.value.code == "model_not_installed"
    assert "taxassist models convert-whisper" in error.value.message or (
        "whisper-ref" in error.value.message
    )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted through the command an administrator runs."""
    if not HAS_REFERENCE:
        pytest.skip("openai-whisper/torch not installed (optional extra whisper-ref)")
    path = tmp_path_factory.mktemp("ref") / "whisper-base-openai.pt"
    done = subprocess.run(
        [*CLI, "models", "convert-whisper", "--to", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "TAXASSIST_DATA_DIR": str(path.parent / "data")},
        timeout=300,
        check=True,
    )
    summary = json.loads(done.stdout)
    assert summary["parameters"] == 72_593_920 and summary["alignment_heads"] == 8
    return path


@requires_reference
def test_converted_model_transcribes_like_faster_whisper(checkpoint: Path, tmp_path: Path) -> None:
    """Same weights, two implementations: greedy float32 decoding should agree closely."""
    settings = make_settings(
        tmp_path / "data",
        asr_backend="openai-whisper",
        asr_checkpoint=checkpoint,
        asr_beam_size=1,
        asr_temperatures=(0.0,),
        asr_word_timestamps=True,
    )
    reference = build_services(settings).transcriber()
    assert reference.settings_record["backend"] == "openai-whisper"
    ref = reference.transcribe(FIXTURES / "interview_zh.wav", language="zh")

    fast_model = ModelRegistry(make_settings(tmp_path / "d2", asr_compute_type="float32")).get(
        "asr"
    )
    fast = FasterWhisperBackend(
        fast_model,
        model_name="whisper-base",
        model_version="1",
        compute_type="float32",
        beam_size=1,
        temperatures=(0.0,),
        vad_filter=False,
        no_repeat_ngram_size=0,
        checks_enabled=False,  # raw decodings compared: the reference backend has no checks
    ).transcribe(FIXTURES / "interview_zh.wav", language="zh")

    a, b = normalize_for_cer(ref.text), normalize_for_cer(fast.text)
    assert len(a) >= 10
    assert edit_distance(a, b) <= 0.2 * max(len(a), len(b)), (ref.text, fast.text)
    assert ref.duration_seconds == pytest.approx(12.61, abs=0.05)
    for segment in ref.segments:  # the same cleaning as faster-whisper
        assert 0 <= segment.start <= segment.end <= ref.duration_seconds
        assert to_simplified(segment.text) == segment.text
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
