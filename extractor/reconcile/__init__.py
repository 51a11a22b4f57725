"""Check every number against the table arithmetic; flag, infer, never overwrite what is printed."""

from extractor.reconcile.engine import RuleOutcome, evaluate, reconcile

__all__ = ["RuleOutcome", "evaluate", "reconcile"]
