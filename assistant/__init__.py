"""Cluster Assistant: cited answers about Hamburg's cluster policy, in German and English."""

__version__ = "0.1.0"
