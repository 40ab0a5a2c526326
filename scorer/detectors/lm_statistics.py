"""Per-text likelihood statistics from a causal LM: the raw material of every zero-shot feature.

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

`LMStatistics.statistics` returns their sums per text (`TextStatistics`); features and detectors are
built on those sums, so one forward pass serves all of them.

- **Windows.** A text is tokenized whole, then cut into windows of `window` tokens (BOS first, then
  `window - 1` text tokens); each token is predicted once, within its window. Sums add up over windows,
  so a long text is measured whole, not truncated. Texts are at most 100,000 characters (the event
  ceiling), a few hundred windows at worst.
- **The opening is context, not evidence.** The first `skip_tokens` tokens of a text (default 24, about
  18 words) are read but not counted: predicted with almost no context, they say more about the topic
  than about who wrote the text, and texts often open with material the writer did not write (a quote,
  a prompt, an edited lead; in shared/data/en every machine text opens with ~20 words of its human pair).
- **Batching.** Windows of all texts in a batch are sorted by length and packed into padded sub-batches
  of at most `max_batch_tokens`; similar lengths together keep padding small.
- **Memory.** The vocabulary of gemma-3 has 262,144 entries, so full logits of a batch would take
  gigabytes. The transformer body runs once per sub-batch, then the output head runs on `chunk_tokens`
  positions at a time and only five numbers per position are kept. The final logit soft-capping of the
  config is applied when set.
- **Head precision.** `head_dtype` bfloat16 rounds the logits to about two decimal digits: per-text
  features move by about 1e-3 (the log-rank more, through ties), AUROC by about 0.01; on the 2-core CPU it
  was 1.14x faster end to end
  (bench/results/detector_cpu.md).
- **Determinism.** Same text, same sums: bit for bit on CPU for the same batch. With an fp32 head the
  sums move by about 1e-5 with whatever else is in the batch (padding), with a bf16 head by about 1e-3.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from schemas.errors import DetectorError
from scorer.detectors.causal_lm import CausalLM

__all__ = ["SURPRISE_LOG_LIKELIHOOD", "TOP_RANKS", "LMStatistics", "TextStatistics"]

log = logging.getLogger(__name__)

_N_STATS = 7  # ll, mu, var, logrank, xent, surprise, off_top
SURPRISE_LOG_LIKELIHOOD = -8.0
TOP_RANKS = 100


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


class LMStatistics:
    """Computes `TextStatistics` with a scoring model and, for Binoculars, a performer model."""

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
    ) -> None:
        if window < 2 or max_batch_tokens < window or chunk_tokens < 1 or not 0 <= skip_tokens < window - 1:
            raise DetectorError(
                "need window >= 2, max_batch_tokens >= window, chunk_tokens >= 1, 0 <= skip < window - 1"
            )
        if performer is not None and performer.tokenizer.get_vocab() != model.tokenizer.get_vocab():
            raise DetectorError(f"{model.model_id} and {performer.model_id} do not share a tokenizer")
        self.model = model
        self.performer = performer
        self.head_dtype = head_dtype or model.head.weight.dtype
        self._heads = {id(lm): _head_weights(lm, head_dtype) for lm in (model, performer) if lm is not None}
        self.window = window
        self.skip_tokens = skip_tokens
        self._max_batch_tokens = max_batch_tokens
        self._chunk_tokens = chunk_tokens
        bos = model.tokenizer.bos_token_id
        self._bos = [bos] if bos is not None else []
        self._pad_id = model.tokenizer.pad_token_id or 0

    def windows(self, text: str) -> list[list[int]]:
        """The token ids the model reads for `text`, window by window (each starts with BOS)."""
        ids = self.model.tokenizer(text, add_special_tokens=False)["input_ids"]
        step = self.window - len(self._bos)
        return [self._bos + ids[start : start + step] for start in range(0, len(ids), step)]

    def statistics(self, texts: Sequence[str]) -> list[TextStatistics]:
        """Per-text sums; same length and order as `texts`."""
        if not texts:
            return []
        started = time.perf_counter()
        try:
            windows = [  # (text index, token ids, first counted position)
                (i, w, self.skip_tokens if k == 0 else 0)
                for i, text in enumerate(texts)
                for k, w in enumerate(self.windows(text))
                if len(w) - 1 > (self.skip_tokens if k == 0 else 0)
            ]
            sums = torch.zeros((len(texts), _N_STATS), dtype=torch.float64)
            counts = [0] * len(texts)
            for owner, window, first in windows:
                counts[owner] += len(window) - 1 - first
            with torch.inference_mode():
                for group in self._sub_batches([w for _, w, _ in windows]):
                    owners = torch.tensor([windows[g][0] for g in group])
                    rows = [windows[g][1] for g in group]
                    sums.index_add_(0, owners, self._window_sums(rows, [windows[g][2] for g in group]))
        except (RuntimeError, ValueError, TypeError) as exc:
            raise DetectorError(f"{self.model.model_id} could not score a batch of {len(texts)}: {exc}") from exc
        log.debug("measured %d texts, %d tokens in %.2f s", len(texts), sum(counts), time.perf_counter() - started)
        return [TextStatistics(n, *row) for n, row in zip(counts, sums.tolist(), strict=True)]

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

    def _window_sums(self, rows_ids: list[list[int]], firsts: list[int]) -> torch.Tensor:
        """(rows, 7) float64 sums for windows padded on the right into one batch; row r counts the
        predictions of its tokens from position `firsts[r]` on."""
        width = max(len(x) for x in rows_ids)
        input_ids = torch.full((len(rows_ids), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows_ids), width), dtype=torch.long)
        for r, x in enumerate(rows_ids):
            input_ids[r, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[r, : len(x)] = 1
        predicted = mask[:, 1:].bool()  # position t predicts token t + 1 where that token is real
        predicted &= torch.arange(width - 1).unsqueeze(0) >= torch.tensor(firsts).unsqueeze(1)
        targets = input_ids[:, 1:][predicted].to(self.model.device)
        owners = torch.arange(len(rows_ids)).unsqueeze(1).expand_as(predicted)[predicted]
        states = _last_states(self.model, input_ids, mask, predicted)
        performer_states = None if self.performer is None else _last_states(self.performer, input_ids, mask, predicted)
        per_token = torch.cat(
            [
                self._token_stats(
                    states[start : start + self._chunk_tokens],
                    None if performer_states is None else performer_states[start : start + self._chunk_tokens],
                    targets[start : start + self._chunk_tokens],
                )
                for start in range(0, len(targets), self._chunk_tokens)
            ]
        )
        sums = torch.zeros((len(rows_ids), _N_STATS), dtype=torch.float64)
        return sums.index_add_(0, owners, per_token.cpu().double())

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


def _last_states(lm: CausalLM, input_ids: torch.Tensor, mask: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
    """The body's last hidden states at the predicting positions, flattened to (n, hidden)."""
    hidden = lm.body(
        input_ids=input_ids.to(lm.device), attention_mask=mask.to(lm.device), use_cache=False
    ).last_hidden_state
    return hidden[:, :-1][predicted.to(lm.device)]


def _head_weights(lm: CausalLM, dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The output head's weight and bias, in `dtype` (a copy) or as they are."""
    weight, bias = lm.head.weight.detach(), lm.head.bias
    dtype = dtype or weight.dtype
    return weight.to(dtype), None if bias is None else bias.detach().to(dtype)
