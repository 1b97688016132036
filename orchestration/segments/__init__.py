"""Behaviour segments: users clustered on their behaviour mix over a trailing window and named by the dominant
trait of their cluster (price_sensitive, feature_dependent, social_driven), or unclassified."""

from .cadence import refresh_day, write_segment_days
from .clustering import SEGMENT_NAMES, UNCLASSIFIED, assign_segments, kmeans, name_clusters
from .features import WINDOW_DAYS, WINDOW_TOTALS_SQL, behaviour_features, window_totals, window_totals_from_rows

__all__ = [
    "SEGMENT_NAMES",
    "UNCLASSIFIED",
    "WINDOW_DAYS",
    "WINDOW_TOTALS_SQL",
    "assign_segments",
    "behaviour_features",
    "kmeans",
    "name_clusters",
    "refresh_day",
    "window_totals",
    "window_totals_from_rows",
    "write_segment_days",
]
