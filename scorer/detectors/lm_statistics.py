"""Per-token statistics and hidden states from a causal LM: the raw material of every feature.

For each token t of a text, predicted from its prefix by the scoring model M, with lp = log_softmax(logits_t)
and p = exp(lp):

    ll_t      = lp[x_t]                         log-likelihood of the token actually written
    mu_t      = sum_v p_v * lp_v                its expectation under M (minus the entropy)
    var_t     = sum_v p_v * lp_v**2 - mu_t**2   its variance
    logrank_t = log(1 + #{v : lp_v > lp[x_t]})  log of the token's rank (0 for the top token)
    xent_t    = -sum_v q_v * lp_v               cross-entropy of M under the performer's distribution q
                                                (Binoculars); with no performer q = p and xent_t = -mu_t
    surprise_t = [ll_t < SURPRISE_LOG_LIKELIHOOD]  1 for a token M found very unlikely (p < e^-8, ~1/3000)
    off_top_t = [rank_t >= TOP_RANKS]           1 for a token outside M's top 100 predictions

and, when `probe_layers` are named, the hidden states of those layers at the token's own position (after
the model has read it), concatenated: what a linear probe reads (probe.py).

`LMStatistics.measure` returns these summed over consecutive *blocks* of a text's tokens (`BlockSums`):
the caller names the block bounds in token indices (sentences for per-sentence scores, fixed cut points
for the offline cache), so one forward pass serves the document, its sentences and every feature, and
nothing per token is kept. `statistics` is the special case of one block after the opening
(`TextStatistics`), what the plain likelihood detectors read. With `with_head=False` (a probe that
reads no likelihood feature) the output head is skipped: the statistics are zeros, and only the counts
and the states are measured; given a model cut after the deepest probe layer (causal_lm.py `cut_after`),
so are the layers past it.

- **Windows.** A text is tokenized whole (`tokenize`, with character offsets), then cut into windows of
  `window` tokens (BOS first, then `window - 1` text tokens); each token is predicted once, within its
  window. Sums add up over windows, so a long text is measured whole, not truncated. Texts are at most
  100,000 characters (the event ceiling), a few hundred windows at worst.
- **The opening is context, not evidence** for `statistics`: the first `skip_tokens` tokens of a text
  (default 24, about 18 words) are read but not counted: predicted with almost no context, they say more
  about the topic than about who wrote the text, and texts often open with material the writer did not
  write (a quote, a prompt, an edited lead; in shared/data/en every machine text opens with ~20 words of
  its human pair). Callers of `measure` choose their own first bound.
- **Batching.** Windows of all texts in a batch are sorted by length and packed into padded sub-batches
  of at most `max_batch_tokens` (padding included); similar lengths together keep padding small. A
  window is at most `window` tokens, so any text is measured, however long, in sub-batches in budget.
- **Memory.** The vocabulary of gemma-3 has 262,144 entries, so full logits of a batch would take
  gigabytes. The transformer body runs once per sub-batch, then the output head runs on `chunk_tokens`
  positions at a time and only seven numbers per position are kept. The final logit soft-capping of the
  config is applied when set. On a GPU both sizes come from the device's free memory when the model is
  set up (`device_budgets`); on a CPU they are the fixed defaults.
- **No host sync per sub-batch.** Inputs are built on the host, pinned and copied without blocking on a
  GPU; the counted positions are picked by index (not by a boolean mask, whose size the host would have
  to wait for) and summed into per-block sums that stay on the device until the batch is done.
- **Head precision.** `head_dtype` bfloat16 rounds the logits to about two decimal digits: per-text
  features move by about 1e-3 (the log-rank more, through ties), AUROC by about 0.01; on the 2-core CPU it
  was 1.14x faster end to end (bench/results/detector_cpu.md).
- **Numerics.** `numerics` names the device class and precisions ("cpu-fp32", "cuda-bf16",
  "cpu-fp32-bf16head"); detectors add it to their version except for the reference, CPU fp32 (see
  packaged.py `numerics_tag`), since a bf16 body on a GPU moves the scores by more than 1e-3.
- **Determinism.** Same text, same sums: bit for bit on CPU for the same batch. With an fp32 head the
  sums move by about 1e-5 with whatever else is in the batch (padding), with a bf16 head by about 1e-3.
"""

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from schemas.errors import DetectorError
from scorer.detectors.causal_lm import CausalLM
from scorer.detectors.packaged import numerics_tag

__all__ = [
    "N_STATS",
    "SURPRISE_LOG_LIKELIHOOD",
    "TOP_RANKS",
    "BlockSums",
    "LMStatistics",
    "TextStatistics",
    "Tokenized",
    "device_budgets",
    "precision_name",
]

log = logging.getLogger(__name__)

N_STATS = 7  # ll, mu, var, logrank, xent, surprise, off_top
SURPRISE_LOG_LIKELIHOOD = -8.0
TOP_RANKS = 100
_MAX_SUB_BATCH_TOKENS = 262_144  # on a GPU: past this a bigger sub-batch no longer runs faster per token
_MAX_CHUNK = 8_192
_PRECISION = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@dataclass(frozen=True)
class TextStatistics:
    """Sums of the per-token statistics of one text over its `n_predicted` predicted tokens."""

    n_predicted: int
    log_likelihood: float
    expected_log_likelihood: float
    variance: float
    log_rank: float
    cross_entropy: float
    surprising: float  # how many tokens had ll < SURPRISE_LOG_LIKELIHOOD
    off_top: float  # how many tokens had TOP_RANKS or more tokens ranked above them


@dataclass(frozen=True)
class Tokenized:
    """A text's token ids (no special tokens) and each token's character span in the text."""

    ids: list[int]
    offsets: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class BlockSums:
    """Per-token statistics (and probe states) summed over the blocks of one text.

    Block j holds the tokens with indices in [bounds[j], bounds[j + 1]); tokens before bounds[0] are
    read as context and not counted. `states` is None when no probe layers were asked for.
    """

    bounds: tuple[int, ...]
    counts: np.ndarray  # (blocks,) tokens per block
    stats: np.ndarray  # (blocks, N_STATS) float64
    states: np.ndarray | None  # (blocks, probe dims) float64

    def statistics(self, first: int = 0, last: int | None = None) -> TextStatistics:
        """The statistics of blocks first..last - 1 together."""
        return TextStatistics(int(self.counts[first:last].sum()), *self.stats[first:last].sum(axis=0).tolist())


class LMStatistics:
    """Measures texts with a scoring model and, for Binoculars, a performer model."""

    def __init__(
        self,
        model: CausalLM,
        performer: CausalLM | None = None,
        *,
        window: int = 512,
        max_batch_tokens: int = 8192,
        chunk_tokens: int = 256,
        skip_tokens: int = 24,
        head_dtype: torch.dtype | None = None,
        probe_layers: Sequence[int] = (),
        with_head: bool = True,
    ) -> None:
        if window < 2 or max_batch_tokens < window or chunk_tokens < 1 or not 0 <= skip_tokens < window - 1:
            raise DetectorError(
                "need window >= 2, max_batch_tokens >= window, chunk_tokens >= 1, 0 <= skip < window - 1"
            )
        if performer is not None and performer.tokenizer.get_vocab() != model.tokenizer.get_vocab():
            raise DetectorError(f"{model.model_id} and {performer.model_id} do not share a tokenizer")
        if with_head and model.cut:
            raise DetectorError(f"{model.model_id} was cut after a probe layer: it has no output head to read")
        n_layers = model.model.config.get_text_config().num_hidden_layers
        if any(not 0 <= layer <= n_layers for layer in probe_layers):
            raise DetectorError(f"probe layers {list(probe_layers)} outside 0..{n_layers} of {model.model_id}")
        self.model = model
        self.performer = performer
        self.head_dtype = head_dtype or model.head.weight.dtype
        self._heads = {id(lm): _head_weights(lm, head_dtype) for lm in (model, performer) if lm is not None}
        self.window = window
        self.skip_tokens = skip_tokens
        self.probe_layers = tuple(probe_layers)
        self.with_head = with_head
        self._max_batch_tokens, self._chunk_tokens = device_budgets(
            model, max_batch_tokens, chunk_tokens, window=window, with_head=with_head
        )
        bos = model.tokenizer.bos_token_id
        self._bos = [bos] if bos is not None else []
        self._pad_id = model.tokenizer.pad_token_id or 0
        body = precision_name(next(model.body.parameters()).dtype)
        head = precision_name(self.head_dtype) if with_head else None
        self.numerics = numerics_tag(model.device.type, body, head)

    def tokenize(self, text: str) -> Tokenized:
        """The text's tokens with their character spans (needs a fast tokenizer)."""
        try:
            encoded = self.model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        except NotImplementedError as exc:
            raise DetectorError(f"{self.model.model_id} has no fast tokenizer with character offsets") from exc
        return Tokenized(list(encoded["input_ids"]), [tuple(span) for span in encoded["offset_mapping"]])

    def windows(self, text: str) -> list[list[int]]:
        """The token ids the model reads for `text`, window by window (each starts with BOS)."""
        return self._windows(self.tokenize(text).ids)

    def _windows(self, ids: list[int]) -> list[list[int]]:
        step = self.window - len(self._bos)  # text tokens per window
        return [self._bos + ids[start : start + step] for start in range(0, len(ids), step)]

    def statistics(self, texts: Sequence[str]) -> list[TextStatistics]:
        """Per-text sums over the tokens after the first `skip_tokens`; same length and order as `texts`."""
        tokenized = [self.tokenize(text) for text in texts]
        bounds = [(min(self.skip_tokens, len(t)), len(t)) for t in tokenized]
        return [sums.statistics() for sums in self.measure(tokenized, bounds)]

    def measure(self, tokenized: Sequence[Tokenized], bounds: Sequence[Sequence[int]]) -> list[BlockSums]:
        """Block sums of each text; `bounds[i]` are non-decreasing token indices of text i (at least two)."""
        if len(tokenized) != len(bounds):
            raise DetectorError(f"{len(tokenized)} texts but {len(bounds)} lists of block bounds")
        if not tokenized:
            return []
        started = time.perf_counter()
        blocks, first_block = [], 0  # global block index of each token, -1 when not counted
        for text, cuts in zip(tokenized, bounds, strict=True):
            if len(cuts) < 2 or any(b < a for a, b in itertools.pairwise(cuts)) or cuts[0] < 0 or cuts[-1] > len(text):
                raise DetectorError(f"bad block bounds {list(cuts)} for a text of {len(text)} tokens")
            which = np.full(len(text), -1, dtype=np.int64)
            for j, (a, b) in enumerate(itertools.pairwise(cuts)):
                which[a:b] = first_block + j
            blocks.append(which)
            first_block += len(cuts) - 1
        step = self.window - len(self._bos)
        windows = [  # (token ids, global block of each predicted token)
            (window, blocks[i][k * step : (k + 1) * step])
            for i, text in enumerate(tokenized)
            for k, window in enumerate(self._windows(text.ids))
        ]
        windows = [(w, b) for w, b in windows if (b >= 0).any()]
        width = N_STATS + self._probe_width()
        sums = torch.zeros((first_block, width), dtype=torch.float64, device=self.model.device)
        try:
            with torch.inference_mode():
                for group in self._sub_batches([w for w, _ in windows]):
                    self._window_sums([windows[g][0] for g in group], [windows[g][1] for g in group], sums)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise DetectorError(f"{self.model.model_id} could not score a batch of {len(tokenized)}: {exc}") from exc
        counts = np.zeros(first_block, dtype=np.int64)
        for which in blocks:
            counted = which[which >= 0]
            np.add.at(counts, counted, 1)
        table = sums.cpu().numpy()
        result, first_block = [], 0
        for cuts in bounds:
            rows = slice(first_block, first_block + len(cuts) - 1)
            states = table[rows, N_STATS:] if self.probe_layers else None
            result.append(BlockSums(tuple(cuts), counts[rows], table[rows, :N_STATS], states))
            first_block += len(cuts) - 1
        log.debug("measured %d texts, %d tokens in %.2f s", len(tokenized), counts.sum(), time.perf_counter() - started)
        return result

    def _probe_width(self) -> int:
        return len(self.probe_layers) * self.model.model.config.get_text_config().hidden_size

    def _sub_batches(self, windows: list[list[int]]) -> list[list[int]]:
        """Indices of `windows`, longest first, grouped so each padded sub-batch stays in budget."""
        order = sorted(range(len(windows)), key=lambda i: (-len(windows[i]), i))
        batches: list[list[int]] = []
        for i in order:  # the first window of a batch is its longest, so it sets the padded length
            if batches and len(windows[batches[-1][0]]) * (len(batches[-1]) + 1) <= self._max_batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _window_sums(self, rows_ids: list[list[int]], rows_blocks: list[np.ndarray], sums: torch.Tensor) -> None:
        """Add the statistics of windows (padded on the right into one batch) into `sums` (blocks, width):
        the token predicted at position t of row r goes to block rows_blocks[r][t] (not counted when < 0)."""
        width = max(len(x) for x in rows_ids)
        input_ids = np.full((len(rows_ids), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows_ids), width), dtype=np.int64)
        target_block = np.full((len(rows_ids), width - 1), -1, dtype=np.int64)
        for r, (x, b) in enumerate(zip(rows_ids, rows_blocks, strict=True)):
            input_ids[r, : len(x)] = x
            mask[r, : len(x)] = 1
            target_block[r, : len(b)] = b
        counted = target_block >= 0  # position t predicts token t + 1 of the window
        device = self.model.device
        row_of, position_of = np.nonzero(counted)
        where = _to_device(row_of * width + position_of, device)  # flat index of the position predicting each
        blocks = _to_device(target_block[counted], device)
        targets = _to_device(input_ids[:, 1:][counted], device)
        inputs = _to_device(input_ids, device), _to_device(mask, device)
        states, probe = _states(self.model, *inputs, where, self.probe_layers)
        if not self.with_head:  # a probe alone: the counts and states, no output head (most of the time)
            per_token = torch.zeros((len(where), N_STATS), device=device)
            rows = per_token if probe is None else torch.cat([per_token, probe], dim=-1)
            sums.index_add_(0, blocks, rows.double())
            return
        performer_states = None
        if self.performer is not None:
            performer_states, _ = _states(self.performer, *inputs, where, ())
        per_token = torch.cat(
            [
                self._token_stats(
                    states[start : start + self._chunk_tokens],
                    None if performer_states is None else performer_states[start : start + self._chunk_tokens],
                    targets[start : start + self._chunk_tokens],
                )
                for start in range(0, len(where), self._chunk_tokens)
            ]
        )
        rows = per_token if probe is None else torch.cat([per_token, probe], dim=-1)
        sums.index_add_(0, blocks, rows.double())

    def _shifted_logits(self, lm: CausalLM, states: torch.Tensor) -> torch.Tensor:
        """fp32 logits minus their row maximum (soft-capped first when the config asks for it)."""
        weight, bias = self._heads[id(lm)]
        logits = torch.nn.functional.linear(states.to(weight.dtype), weight, bias).float()
        if lm.softcap is not None:
            logits = torch.tanh(logits / lm.softcap) * lm.softcap
        return logits - logits.amax(dim=-1, keepdim=True)

    def _token_stats(
        self, states: torch.Tensor, performer_states: torch.Tensor | None, targets: torch.Tensor
    ) -> torch.Tensor:
        """(n, 7) float32 ll, mu, var, logrank, xent, surprise, off_top for n positions, from their last
        hidden states.

        With s = logits - max(logits), Z = sum(exp(s)) and lp = s - log(Z): mu = E[s] - log(Z) and
        var = E[s^2] - E[s]^2 (the variance does not depend on the shift). One exp pass over the
        vocabulary and no logsumexp.
        """
        shifted = self._shifted_logits(self.model, states)
        target_s = shifted.gather(-1, targets.unsqueeze(-1))
        rank = (shifted > target_s).sum(dim=-1).float()
        weights = shifted.exp()
        z = weights.sum(dim=-1)
        log_z = z.log()
        if performer_states is None:
            mean_s = (weights * shifted).sum(dim=-1) / z
            xent = log_z - mean_s
        else:
            assert self.performer is not None, "performer states come from the performer"
            q = self._shifted_logits(self.performer, performer_states).softmax(dim=-1)
            xent = log_z - (q * shifted).sum(dim=-1)
            del q
            mean_s = (weights * shifted).sum(dim=-1) / z
        mean_s2 = weights.mul_(shifted).mul_(shifted).sum(dim=-1) / z
        ll = target_s.squeeze(-1) - log_z
        surprise = (ll < SURPRISE_LOG_LIKELIHOOD).float()
        off_top = (rank >= TOP_RANKS).float()
        return torch.stack(
            [ll, mean_s - log_z, mean_s2 - mean_s.square(), rank.log1p(), xent, surprise, off_top], dim=-1
        )


def _states(
    lm: CausalLM, input_ids: torch.Tensor, mask: torch.Tensor, where: torch.Tensor, probe_layers: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The last hidden states at the positions predicting counted tokens, (n, hidden), and the probe
    layers' states at the counted tokens' own positions (one further), concatenated to (n, layers * hidden);
    `where` holds the flat index (row * width + position) of each position predicting a counted token."""
    output = lm.body(input_ids=input_ids, attention_mask=mask, use_cache=False, output_hidden_states=bool(probe_layers))

    def picked(states: torch.Tensor, shift: int = 0) -> torch.Tensor:
        return states.reshape(-1, states.shape[-1]).index_select(0, where + shift)

    predicting = picked(output.last_hidden_state)
    if not probe_layers:
        return predicting, None
    probe = torch.cat([picked(output.hidden_states[layer], 1).float() for layer in probe_layers], dim=-1)
    return predicting, probe


def precision_name(dtype: torch.dtype) -> str:
    """How versions name a precision: "fp32", "bf16", "fp16" (torch's own name for any other)."""
    return _PRECISION.get(dtype, str(dtype))


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """`array` on `device`: on a GPU from pinned memory without blocking, so the host never waits."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def device_budgets(
    lm: CausalLM, max_batch_tokens: int, chunk_tokens: int, *, window: int, with_head: bool
) -> tuple[int, int]:
    """Tokens per padded sub-batch and positions per head chunk: as given on a CPU; on a GPU as many as
    half of its free memory holds (at least as given), the head's logits taking half of that when used.

    Per token of a sub-batch the body keeps every layer's hidden state (for the probe), the MLP's
    intermediate activations and a row of attention scores per head; per position of a head chunk, the
    logits and three float32 temporaries over the vocabulary.
    """
    if lm.device.type != "cuda":
        return max_batch_tokens, chunk_tokens
    free, _ = torch.cuda.mem_get_info(lm.device)
    config = lm.model.config.get_text_config()
    element = next(lm.body.parameters()).element_size()
    per_token = element * ((config.num_hidden_layers + 1) * config.hidden_size + 4 * config.intermediate_size)
    per_token += 4 * config.num_attention_heads * window
    per_position = 4 * 4 * config.vocab_size
    usable = free // 2
    body_share = usable // 2 if with_head else usable
    batch = min(max(max_batch_tokens, body_share // per_token), _MAX_SUB_BATCH_TOKENS)
    chunk = min(max(chunk_tokens, (usable - body_share) // per_position), _MAX_CHUNK) if with_head else chunk_tokens
    return int(batch), int(chunk)


def _head_weights(lm: CausalLM, dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The output head's weight and bias, in `dtype` (a copy) or as they are."""
    weight, bias = lm.head.weight.detach(), lm.head.bias
    dtype = dtype or weight.dtype
    return weight.to(dtype), None if bias is None else bias.detach().to(dtype)
