"""Procedural indoor scenes with exact ground truth: rooms, furniture, camera paths, rendering, questions."""
