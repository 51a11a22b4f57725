"""Benchmarks: gold loading, scoring, speed, reports, and the synthetic messy-report generator."""
