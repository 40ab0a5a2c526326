"""The original `result` string, shared by the gateway's `/predict` and the RabbitMQ bridge's replies."""

__all__ = ["legacy_result"]


def legacy_result(text: str, probability: float) -> str:
    """The original `result` string, with the real probability to three decimals."""
    return f"Processed text: {text}, **probability generated text = {probability:.3f}**"
