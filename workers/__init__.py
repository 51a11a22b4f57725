"""Celery app and tasks: thin doors onto extractor/ for many machines (built in the workers issue)."""
