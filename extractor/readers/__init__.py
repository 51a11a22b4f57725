"""Readers turn a SourceDocument into an Extraction; they know nothing of storage or reconciliation."""
