"""Shared code of the quality (eval.py), speed (bench.py) and demo harnesses. Standard library only."""
