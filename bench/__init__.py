"""Benchmarks of Report QA: ingestion against its limits, query latency at scale, start-up."""
