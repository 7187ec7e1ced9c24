"""Customers over time: the segments of a log's customers at a series of snapshot dates, how they move between
segments (transition matrices, paths, activity) and how their features drift."""

from rfmlab.timeline._drift import drift, first_snapshot_reference
from rfmlab.timeline._snapshots import FEATURES, TimelineSpec, snapshot_tables
from rfmlab.timeline._transitions import GONE, NEW, activity, feeders, largest_moves, paths, retention, transitions

__all__ = [
    "FEATURES",
    "GONE",
    "NEW",
    "TimelineSpec",
    "activity",
    "drift",
    "first_snapshot_reference",
    "snapshot_tables",
    "feeders",
    "largest_moves",
    "paths",
    "retention",
    "transitions",
]
