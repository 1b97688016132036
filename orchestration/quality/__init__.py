"""Data contracts (domain logic, no Dagster): Great Expectations suites from expectations/
validated against pandas frames."""
