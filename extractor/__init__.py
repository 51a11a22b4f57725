"""gongkai's engine: ingest, readers, reconciliation and storage, each a separate room."""

__version__ = "0.1.0"
