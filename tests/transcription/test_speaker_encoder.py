"""The numpy GE2E voice encoder: weights read without torch, and the same numbers as resemblyzer."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.registry import ModelRegistry, load_manifest, package_installed, sha256_file
from assistant.transcription import speaker_encoder as se
from assistant.transcription.channels import decode_channels
from tests.conftest import FIXTURES, SHARED_CORPORA, make_settings

SPEC = load_manifest()["speaker"]
requires_weights = pytest.mark.skipif(
    not package_installed(SPEC),
    reason="resemblyzer's pretrained.pt not installed (make setup: pip install --no-deps "
    "resemblyzer==0.1.4)",
)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> se.VoiceEncoder:
    registry = ModelRegistry(make_settings(tmp_path_factory.mktemp("spk")))
    return registry.get("speaker")  # type: ignore[no-any-return]


def _utterances() -> list[np.ndarray]:
    """The synthetic fixture, and where present three real speakers (one 24 kHz, resampled)."""
    wavs = [decode_channels(FIXTURES / "interview_zh.wav")[0]]
    if SHARED_CORPORA.is_dir():
        real = SHARED_CORPORA / "speech" / "wav"
        names = ("BAC009S0764W0122", "IT0011W0001", "f5tts_basic_ref_zh")
        wavs += [decode_channels(real / f"{name}.wav")[0] for name in names]
    return wavs


@requires_weights
def test_weights_load_without_torch_and_match_the_manifest() -> None:
    path = ModelRegistry(make_settings(Path("/nonexistent"))).speaker_model_file()
    assert sha256_file(path) == SPEC.files[0].sha256
    # a fresh interpreter where importing torch is impossible still loads and embeds
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from assistant.transcription.speaker_encoder import VoiceEncoder\n"
        f"enc = VoiceEncoder.from_file(Path({str(path)!r}))\n"
        "e = enc.embed_utterance(np.sin(np.arange(32000) / 7).astype(np.float32) * 0.1)\n"
        "print(e.shape, round(float(np.linalg.norm(e)), 4))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert out.stdout.strip() == "(256,) 1.0"


@requires_weights
def test_state_has_the_three_layer_lstm_shapes() -> None:
    state = se.read_torch_state(ModelRegistry(make_settings(Path("/x"))).speaker_model_file())
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    for k in range(3):
        assert state[f"lstm.weight_hh_l{k}"].shape == (1024, 256)
        assert state[f"lstm.bias_ih_l{k}"].dtype == np.float32
    assert state["linear.weight"].shape == (256, 256)


def test_a_checkpoint_that_calls_code_is_refused(tmp_path: Path) -> None:
    """The loader is a restricted unpickler: a global outside the tensor vocabulary is refused."""
    evil = tmp_path / "evil.pt"
    with evil.open("wb") as out:
        for item in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(item, out, protocol=2)
        out.write(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")
    with pytest.raises(pickle.UnpicklingError, match=r"refused global os\.system"):
        se.read_torch_state(evil)
    (tmp_path / "zip.pt").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises((ValueError, pickle.UnpicklingError)):
        se.read_torch_state(tmp_path / "zip.pt")


def test_partial_slices_follow_resemblyzer() -> None:
    # 1.6 s partials every 77 frames (about 50% overlap) covering the utterance
    assert se.partial_slices(16000 * 3) == [(0, 160), (77, 237), (154, 314)]
    assert se.partial_slices(8000) == [(0, 160)]  # too short: one zero-padded partial
    assert se.partial_slices(16000 * 2) == [(0, 160), (77, 237)]


def test_mel_filterbank_is_slaney_normalised() -> None:
    bank = se.mel_filterbank()
    assert bank.shape == (40, 201) and (bank >= 0).all()
    # Slaney normalisation: every triangle has the same area (2 / bandwidth · bandwidth / 2)
    hz_per_bin = 16000 / 400
    areas = bank.sum(axis=1) * hz_per_bin
    assert np.allclose(areas[5:], 1.0, atol=0.08)


@requires_weights
def test_embeddings_match_resemblyzer_on_real_speech(encoder: se.VoiceEncoder) -> None:
    """The port against resemblyzer 0.1.4 itself (torch, librosa): mel frames and embeddings."""
    pytest.importorskip("torch", reason="the reference needs torch (make test installs it)")
    pytest.importorskip("librosa", reason="the reference needs librosa ([voice-ref] extra)")
    pytest.importorskip("webrtcvad", reason="the reference needs webrtcvad ([voice-ref] extra)")
    from resemblyzer import VoiceEncoder, preprocess_wav, wav_to_mel_spectrogram

    reference = VoiceEncoder("cpu", verbose=False)
    worst_mel = worst_embed = 0.0
    for wav in _utterances():
        wav = preprocess_wav(wav, source_sr=None)
        ref_mel = wav_to_mel_spectrogram(wav)
        mel = se.mel_frames(wav)
        assert mel.shape == ref_mel.shape
        worst_mel = max(worst_mel, float(np.abs(mel - ref_mel).max() / ref_mel.max()))
        ours, theirs = encoder.embed_utterance(wav), reference.embed_utterance(wav)
        worst_embed = max(worst_embed, float(np.abs(ours - theirs).max()))
    assert worst_mel < 1e-5
    assert worst_embed < 1e-5, worst_embed


@requires_weights
def test_batched_embeddings_equal_one_at_a_time(encoder: se.VoiceEncoder) -> None:
    wavs = [w[: 16000 * n] for n, w in zip((1, 2, 3), _utterances() * 3, strict=False)]
    together = encoder.embed_many(wavs)
    alone = np.stack([encoder.embed_utterance(w) for w in wavs])
    assert np.abs(together - alone).max() < 1e-5


def test_volume_is_raised_never_lowered() -> None:
    quiet = np.full(1600, 0.001, dtype=np.float32)
    loud = np.full(1600, 0.5, dtype=np.float32)
    raised = se.normalize_volume(quiet)
    assert abs(20 * np.log10(float(np.sqrt(np.mean(raised**2)))) - se.TARGET_DBFS) < 0.01
    assert se.normalize_volume(loud) is loud
    silent = np.zeros(100, dtype=np.float32)
    assert se.normalize_volume(silent) is silent
