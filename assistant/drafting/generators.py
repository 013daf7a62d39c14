"""Narrative backends chosen by settings, and the local transformers backend.

Why a local backend: some bureaus cannot run a model server at all and want a model directory
on the same machine. `transformers` and `torch` are an optional extra (`pip install .[llm]`),
imported only when this backend is configured, so the service and its tests need neither.
Whatever the model writes still goes through the fact guard in `narrate()`.
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.drafting.narrative import (
    SYSTEM_PROMPT,
    GeneratorUnavailable,
    NarrativeGenerator,
    NarrativeRequest,
    OpenAICompatibleGenerator,
)

log = logging.getLogger(__name__)


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise GeneratorUnavailable(
            "generator_unavailable",
            "本地文书生成模型需要安装可选依赖（pip install '.[llm]'：transformers、torch）。",
            details={"missing": module},
        ) from exc


class TransformersGenerator:
    """Any local causal-LM directory (config, weights, tokenizer) loaded with transformers."""

    name = "transformers"

    def __init__(
        self, model_dir: Path | str, *, max_new_tokens: int = 400, threads: int = 0
    ) -> None:
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise GeneratorUnavailable(
                "generator_unavailable",
                "本地文书生成模型目录不存在。",
                details={"model_dir": str(self.model_dir)},
            )
        self._torch = _optional("torch")
        transformers = _optional("transformers")
        if threads:
            self._torch.set_num_threads(threads)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.model_dir, local_files_only=True
            )
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                self.model_dir, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise GeneratorUnavailable(
                "generator_unavailable",
                "本地文书生成模型无法加载。",
                details={"model_dir": str(self.model_dir), "error": type(exc).__name__},
            ) from exc
        self.model.eval()
        self.max_new_tokens = max_new_tokens

    def _prompt(self, request: NarrativeRequest) -> str:
        user = f"当事人：{request.party_name}\n案件记录的违法事实：{request.facts}"
        if request.evidence:
            user += "\n证据：" + "；".join(request.evidence)
        if request.transcript:
            user += f"\n询问笔录：{request.transcript}"
        if getattr(self.tokenizer, "chat_template", None):
            messages = [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user},
            ]
            prompt: str = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return prompt
        return f"{SYSTEM_PROMPT}\n{user}\n违法事实："

    def generate(self, request: NarrativeRequest) -> str:
        """Greedy decoding (deterministic: the same record gives the same draft)."""
        encoded = self.tokenizer(self._prompt(request), return_tensors="pt")
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        try:
            with self._torch.no_grad():
                output = self.model.generate(
                    **encoded,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    pad_token_id=pad,
                )
        except (RuntimeError, ValueError, IndexError) as exc:
            raise GeneratorUnavailable(
                "generator_unavailable",
                "本地文书生成模型推理失败，已改用模板内容。",
                details={"error": type(exc).__name__},
            ) from exc
        new_tokens = output[0, encoded["input_ids"].shape[1] :]
        text: str = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        if not text.strip():
            raise GeneratorUnavailable(
                "generator_unavailable", "本地文书生成模型未返回内容，已改用模板内容。", details={}
            )
        return text


@lru_cache(maxsize=2)
def _local_generator(model_dir: Path) -> TransformersGenerator:
    """Load a local model once per process, not at every draft (loading takes seconds)."""
    return TransformersGenerator(model_dir)


def generator_from_settings(settings: Settings) -> tuple[NarrativeGenerator | None, str]:
    """The configured backend and why; a backend that cannot start means the template, logged."""
    backend = settings.narrative_backend
    if backend == "template":
        return None, "未配置文书生成模型（TAXASSIST_NARRATIVE_BACKEND=template），使用模板叙述"
    try:
        if backend == "openai":
            if not settings.narrative_url or not settings.narrative_model:
                return None, "未配置模型服务地址或模型名称，使用模板叙述"
            return (
                OpenAICompatibleGenerator(
                    settings.narrative_url,
                    settings.narrative_model,
                    api_key=settings.narrative_api_key,
                    timeout_s=settings.narrative_timeout_s,
                ),
                f"模型服务 {settings.narrative_url}（{settings.narrative_model}）",
            )
        if not settings.narrative_model_dir:
            return None, "未配置本地模型目录，使用模板叙述"
        return (
            _local_generator(settings.narrative_model_dir),
            f"本地模型 {settings.narrative_model_dir}",
        )
    except GeneratorUnavailable as exc:
        log.warning("narrative backend %s unavailable: %s", backend, exc.details)
        return None, f"文书生成模型不可用（{exc.message}），使用模板叙述"
