"""Store: the PostgreSQL log (SQLAlchemy models, Alembic migrations) and every read and write of it.

The sink writes the log from the topics (`writer`), intakes record submissions first when the broker is
volatile (`recorder`), and the rest of the system reads it here: the gateway's views (`queries`), batch
progress (`batches`), the replay window (`window`), results, comparison and export (`results`,
`export`), the web page's reads (`pages`), the API keys (`keys`) and what `veritext status` shows
(`activity`). Nothing outside this package writes SQL.
"""
