"""stedi: a single-node lakehouse for STEDI Step Trainer data."""

__version__ = "0.1.0"
