"""Data contracts (domain logic, no Dagster): the suites of expectations/, evaluated in SQL on the warehouse
(sql_contract.py) or by Great Expectations over pandas (expectations.py, the reference), and the guardrail audit."""
