"""The LLM reader: instructor over the openai client, one call per block of rows, grounded in the text."""

from extractor.readers.llm.config import LLMConfigError, LLMNotConfigured, LLMSettings
from extractor.readers.llm.reader import LLM_READER_VERSION, Budget, LLMUsage, TokenBudget, read_sections_llm

__all__ = [
    "LLM_READER_VERSION",
    "Budget",
    "LLMConfigError",
    "LLMNotConfigured",
    "LLMSettings",
    "LLMUsage",
    "TokenBudget",
    "read_sections_llm",
]
