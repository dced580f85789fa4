"""wxrec: declarative configuration for a WeChat Official Account's cards."""

__version__ = "0.1.0"
