"""vlagent: a desktop agent that remembers every image you see."""

__version__ = "0.1.0"
