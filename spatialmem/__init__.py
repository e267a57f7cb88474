"""spatialmem: persistent spatial memory for vision-language models.

See DESIGN.md (shared) and README.md. The package is organised by stage: ``sources`` ->
``perception`` -> ``memory`` -> ``dsl`` -> ``agent`` -> ``bench``; ``synth`` makes scenes with exact
ground truth.
"""

__version__ = "0.1.0"
