"""Benchmarks of Report QA (issue 6): ingestion against its limits, query latency at scale, start-up."""
