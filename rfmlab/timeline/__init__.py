"""Customers over time: the segments of a log's customers at a series of snapshot dates, how they move between
segments (transition matrices, paths, activity) and how their features drift."""

from rfmlab.timeline._transitions import GONE, NEW, activity, feeders, largest_moves, paths, retention, transitions

__all__ = ["GONE", "NEW", "activity", "feeders", "largest_moves", "paths", "retention", "transitions"]
