"""Planners that turn questions into query-language programs, LLM clients and the repair loop."""
