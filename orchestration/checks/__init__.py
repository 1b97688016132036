"""Asset checks that run the Great Expectations suites of expectations/ against warehouse tables."""
