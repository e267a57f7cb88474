"""Benchmark harness: question loading, VSI-Bench metrics, runner, reports."""
