"""The Telegram bot (`veritext bot`): people send a text, or a .txt file, and get the probability that a
machine wrote it, with the most machine-like sentences marked. It is a client of the gateway's HTTP API
(bot/gateway.py), like any other; it reads nothing else of the pipeline."""
