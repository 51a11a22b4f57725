"""Celery door onto extractor/: `gongkai worker` reads queued documents, `gongkai submit` queues them.

app.py (Celery app from the settings), tasks.py (document task, per-section chord, failure
errback), cli.py (the two commands), config.py (GONGKAI_WORKER_* settings), codec.py (JSON
between tasks), bench.py (`python -m workers.bench`: documents per second through the queue).
"""
