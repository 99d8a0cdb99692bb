"""Synthetic layouts, demo-data generators and the benchmark behind ``python -m geo bench``; not part of the engine."""
