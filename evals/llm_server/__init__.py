"""A scripted OpenAI-compatible server that answers the LLM reader's table blocks from gold files.

It lets the LLM reader, its retries and the reconciler be tested and benchmarked without a model:
answers are exact gold unless a failure is injected (broken or truncated JSON, shifted, merged,
split, dropped, duplicated or invented numbers, refusals, timeouts, HTTP 429 and 500), and every
injection is logged so a benchmark can count how many wrong values were caught.

Run it with `python -m evals.llm_server --gold DIR [--gold DIR ...] --port 8011`.
"""

from evals.llm_server.app import count_tokens, create_app
from evals.llm_server.failures import MODES, REFUSAL_TEXT, FailureConfig

__all__ = ["MODES", "REFUSAL_TEXT", "FailureConfig", "count_tokens", "create_app"]
