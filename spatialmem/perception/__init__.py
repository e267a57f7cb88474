"""Perception backends: geometry (poses + depth) and instances (2D masks), each with a fake."""
