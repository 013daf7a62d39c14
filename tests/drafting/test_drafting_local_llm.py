"""The local transformers backend on a tiny randomly initialised GPT-2 the test builds itself.

There is no offline generative model to ship, so this proves the code path (load a local
causal-LM directory, prompt, greedy decode) and that its gibberish is refused by the fact guard,
so the template narrative is printed. Skipped when the optional `[llm]` extra is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.drafting.guard import FactRecord
from assistant.drafting.narrative import NarrativeRequest, TemplateNarrative, narrate
from assistant.knowledge.statutes import StatuteBook
from tests.drafting.test_drafting_documents import make_ctx

torch = pytest.importorskip("torch", reason="optional [llm] extra (torch) not installed")
transformers = pytest.importorskip(
    "transformers", reason="optional [llm] extra (transformers) not installed"
)


def tiny_model(directory: Path) -> Path:
    """A 2-layer GPT-2 with random weights and a character tokenizer (digits only), saved."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    specials = ["[PAD]", "[UNK]", "[EOS]"]
    vocab = {token: i for i, token in enumerate([*specials, *"0123456789"])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(vocab),
        n_positions=1024,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=vocab["[EOS]"],
        eos_token_id=vocab["[EOS]"],
        pad_token_id=vocab["[PAD]"],
    )
    model = transformers.GPT2LMHeadModel(config)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def test_local_model_gibberish_is_refused(tmp_path: Path) -> None:
    from assistant.drafting.generators import TransformersGenerator

    generator = TransformersGenerator(tiny_model(tmp_path / "tiny-gpt2"), max_new_tokens=24)
    ctx = make_ctx()
    request = NarrativeRequest(facts=ctx.facts, evidence=ctx.evidence, party_name=ctx.party.name)
    raw = generator.generate(request)
    assert raw.strip() and raw == generator.generate(request)  # greedy: deterministic
    book = StatuteBook.load([PROJECT_ROOT / "corpora"])
    result = narrate(request, FactRecord.from_context(ctx), book, generator)
    assert result.source == "template" and result.generator == "transformers"
    assert result.rejected, result.rejected_text  # the guard named the invented numbers
    assert result.text == TemplateNarrative().generate(request)
