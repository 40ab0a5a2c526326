"""The web page the gateway serves at `/` (docs/web-and-bot.md): check a text, the recent texts as
they are scored, batches, detectors and their comparison, health. Server-rendered Jinja2 templates with
a little JavaScript (static/app.js); no build step. Pages read through `PageReads` (reads.py), which the
composition root fills, and authenticate with the same API keys as the API (a session cookie)."""
