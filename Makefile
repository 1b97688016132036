# The two commands of the README: `make demo` and `make test`. Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-slow test-browser benchmark benchmark-recall benchmark-staging dev clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: $(STAMP)  ## simulate the embedded app, run every day through the pipeline, print the result
	$(VENV)/bin/churn-recall demo

test: $(STAMP)  ## the default test suite (slow and browser tests excluded)
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## scale benchmarks and long simulations
	$(PY) -m pytest -q -m slow

test-browser: $(STAMP)  ## render the recall report in headless Chromium (installs Debian's chromium if missing)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(PY) -m pytest -q -m browser

benchmark: $(STAMP)  ## generation throughput and seconds per daily partition on a larger world
	$(VENV)/bin/churn-recall benchmark

benchmark-recall: $(STAMP)  ## the strategy library applied to 1 million synthetic at-risk users, seconds per phase
	$(VENV)/bin/churn-recall benchmark-recall --users 1000000

benchmark-staging: $(STAMP)  ## one landing day of a 100,000-user app: ingestion, staging and the events contract, wall and CPU seconds
	$(VENV)/bin/churn-recall benchmark-staging --users 100000

dev: $(STAMP)  ## the Dagster UI on the same code location
	$(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
