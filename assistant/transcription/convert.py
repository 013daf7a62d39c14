"""CTranslate2 Whisper model directory → openai-whisper checkpoint (for the reference backend).

No openai-whisper checkpoint ships offline, but the bundled faster-whisper model holds the same
weights: this reads CTranslate2's `model.bin` (format: ctranslate2/specs/model_spec.py
`_serialize`) and renames the variables to openai-whisper's module names, so the reference
implementation can be run on exactly the weights the project uses.

model.bin layout (little endian): u32 binary version, string spec name, u32 spec revision,
u32 variable count, then per variable: string name, u8 rank, u32 × rank shape, u8 dtype id
(float32, int8, int16, int32, float16, bfloat16), u32 byte count, raw bytes; then u32 alias
count and (alias, target) string pairs. A string is u16 length (with NUL), bytes, NUL.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from assistant.errors import InvalidInput

_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def read_ctranslate2(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Every variable of a CTranslate2 model.bin, aliases resolved: (spec name, variables)."""
    with path.open("rb") as handle:
        version = _unpack(handle, "I")
        if version < 5:
            raise _bad_model(path, f"unsupported model.bin version {version}")
        spec = _string(handle)
        _unpack(handle, "I")  # spec revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(_unpack(handle, "I")):
            name = _string(handle)
            shape = tuple(_unpack(handle, "I") for _ in range(_unpack(handle, "B")))
            dtype_id = _unpack(handle, "B")
            size = _unpack(handle, "I")
            raw = handle.read(size)
            if dtype_id >= len(_DTYPES) or len(raw) != size:
                why = f"variable {name}: dtype {dtype_id}, {len(raw)}/{size} bytes"
                raise _bad_model(path, why)
            variables[name] = _array(raw, _DTYPES[dtype_id]).reshape(shape)
        for _ in range(_unpack(handle, "I")):
            alias, target = _string(handle), _string(handle)
            variables[alias] = variables[target]
    return spec, variables


def _unpack(handle: BinaryIO, fmt: str) -> int:
    size = struct.calcsize("<" + fmt)
    data = handle.read(size)
    if len(data) != size:
        raise InvalidInput("ct2_model_truncated", "模型文件不完整（model.bin 提前结束）。")
    return int(struct.unpack("<" + fmt, data)[0])


def _string(handle: BinaryIO) -> str:
    length = _unpack(handle, "H")
    return handle.read(length)[:-1].decode("utf-8")


def _array(raw: bytes, dtype: str) -> np.ndarray:
    if dtype == "bfloat16":  # numpy has no bfloat16: widen the upper 16 bits of a float32
        halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return halves.view(np.float32)
    return np.frombuffer(raw, dtype="<" + np.dtype(dtype).str[1:]).copy()


def _bad_model(path: Path, why: str) -> InvalidInput:
    return InvalidInput(
        "not_a_whisper_model",
        "该目录不是可转换的 CTranslate2 Whisper 模型。",
        details={"path": str(path), "why": why},
    )


def _weight(variables: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """A linear/conv weight as float32; int8 weights are de-quantized with their row scales."""
    weight = variables[f"{prefix}/weight"]
    if weight.dtype == np.int8:
        scale = variables[f"{prefix}/weight_scale"].astype(np.float32)
        shape = (-1,) + (1,) * (weight.ndim - 1)
        return weight.astype(np.float32) / scale.reshape(shape)
    return weight.astype(np.float32)


def _linear(variables: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray | None]:
    bias = variables.get(f"{prefix}/bias")
    return _weight(variables, prefix), None if bias is None else bias.astype(np.float32)


def _count_layers(variables: dict[str, np.ndarray], side: str) -> int:
    pattern = re.compile(rf"^{side}/layer_(\d+)/")
    return len({m.group(1) for name in variables if (m := pattern.match(name))})


def to_openai_state(variables: dict[str, np.ndarray]) -> tuple[dict[str, int], dict[str, Any]]:
    """(dims, state dict of float32 numpy arrays) in openai-whisper's names.

    CTranslate2 fuses q/k/v of self-attention into one linear (`linear_0`, rows q|k|v) and k/v of
    cross-attention (`linear_1`, rows k|v); Whisper's key projection has no bias, so the fused
    bias holds zeros there and is dropped. Pre-norms: `self_attention/layer_norm` = attn_ln,
    `attention/layer_norm` = cross_attn_ln, `ffn/layer_norm` = mlp_ln. The output projection is
    the token embedding (tied), which openai-whisper computes from `token_embedding` itself.
    """
    state: dict[str, Any] = {}

    def put_linear(name: str, weight: np.ndarray, bias: np.ndarray | None) -> None:
        state[f"{name}.weight"] = weight
        if bias is not None:
            state[f"{name}.bias"] = bias

    def put_norm(name: str, prefix: str) -> None:
        state[f"{name}.weight"] = variables[f"{prefix}/gamma"].astype(np.float32)
        state[f"{name}.bias"] = variables[f"{prefix}/beta"].astype(np.float32)

    def put_attention(name: str, prefix: str, *, cross: bool) -> None:
        d = variables[f"{prefix}/linear_0/weight"].shape[1]
        if cross:
            q_w, q_b = _linear(variables, f"{prefix}/linear_0")
            kv_w, kv_b = _linear(variables, f"{prefix}/linear_1")
            k_w, v_w = kv_w[:d], kv_w[d:]
            v_b = None if kv_b is None else kv_b[d:]
            out = f"{prefix}/linear_2"
        else:
            qkv_w, qkv_b = _linear(variables, f"{prefix}/linear_0")
            q_w, k_w, v_w = qkv_w[:d], qkv_w[d : 2 * d], qkv_w[2 * d :]
            q_b = None if qkv_b is None else qkv_b[:d]
            v_b = None if qkv_b is None else qkv_b[2 * d :]
            out = f"{prefix}/linear_1"
        put_linear(f"{name}.query", q_w, q_b)
        put_linear(f"{name}.key", k_w, None)
        put_linear(f"{name}.value", v_w, v_b)
        put_linear(f"{name}.out", *_linear(variables, out))

    def put_block(name: str, prefix: str, *, decoder: bool) -> None:
        put_attention(f"{name}.attn", f"{prefix}/self_attention", cross=False)
        put_norm(f"{name}.attn_ln", f"{prefix}/self_attention/layer_norm")
        if decoder:
            put_attention(f"{name}.cross_attn", f"{prefix}/attention", cross=True)
            put_norm(f"{name}.cross_attn_ln", f"{prefix}/attention/layer_norm")
        put_linear(f"{name}.mlp.0", *_linear(variables, f"{prefix}/ffn/linear_0"))
        put_linear(f"{name}.mlp.2", *_linear(variables, f"{prefix}/ffn/linear_1"))
        put_norm(f"{name}.mlp_ln", f"{prefix}/ffn/layer_norm")

    n_audio_layer = _count_layers(variables, "encoder")
    n_text_layer = _count_layers(variables, "decoder")
    for conv in ("conv1", "conv2"):
        put_linear(f"encoder.{conv}", *_linear(variables, f"encoder/{conv}"))
    state["encoder.positional_embedding"] = variables["encoder/position_encodings/encodings"]
    for i in range(n_audio_layer):
        put_block(f"encoder.blocks.{i}", f"encoder/layer_{i}", decoder=False)
    put_norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = variables["decoder/embeddings/weight"]
    state["decoder.positional_embedding"] = variables["decoder/position_encodings/encodings"]
    for i in range(n_text_layer):
        put_block(f"decoder.blocks.{i}", f"decoder/layer_{i}", decoder=True)
    put_norm("decoder.ln", "decoder/layer_norm")
    state = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}

    conv1 = state["encoder.conv1.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(state["decoder.token_embedding.weight"].shape[0]),
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(state["decoder.token_embedding.weight"].shape[1]),
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    return dims, state


def convert_ctranslate2_whisper(model_dir: Path, output: Path) -> dict[str, Any]:
    """Write `{"dims", "model_state_dict", "alignment_heads"}` with torch.save; returns a summary.

    `alignment_heads` (the cross-attention heads that track time, from the model's config.json)
    is an extra key that `whisper.load_model` ignores; the reference backend applies it, so word
    timestamps use the same heads as faster-whisper.
    """
    import torch

    bin_path = model_dir / "model.bin"
    if not bin_path.is_file():
        raise _bad_model(model_dir, "model.bin is missing")
    spec, variables = read_ctranslate2(bin_path)
    if spec != "WhisperSpec":
        raise _bad_model(bin_path, f"spec {spec!r} is not WhisperSpec")
    dims, state = to_openai_state(variables)
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    heads = [[int(layer), int(head)] for layer, head in config.get("alignment_heads") or []]
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(output.suffix + ".part")
    torch.save(
        {
            "dims": dims,
            "model_state_dict": {k: torch.from_numpy(v) for k, v in state.items()},
            "alignment_heads": heads,
        },
        partial,
    )
    partial.replace(output)
    return {
        "source": str(model_dir),
        "checkpoint": str(output),
        "dims": dims,
        "tensors": len(state),
        "parameters": int(sum(v.size for v in state.values())),
        "alignment_heads": len(heads),
    }
