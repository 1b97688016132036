# The two commands of the README: `make demo` and `make test`. Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-slow test-browser benchmark benchmark-loop benchmark-recall dev clean

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

benchmark-loop: $(STAMP)  ## seconds per closed-loop day of the simulated app (20,000 users)
	$(VENV)/bin/churn-recall benchmark-loop --users 20000 --days 5

benchmark-recall: $(STAMP)  ## the strategy library applied to 1 million synthetic at-risk users, seconds per phase
	$(VENV)/bin/churn-recall benchmark-recall --users 1000000

dev: $(STAMP)  ## the Dagster UI on the same code location
	$(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
