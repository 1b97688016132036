"""churn-recall: daily churn early-warning and recall pipeline (Dagster code location and domain logic)."""
