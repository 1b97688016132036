# The two commands of the README: `make demo` and `make test`. Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
DEPS := $(shell cksum pyproject.toml | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(DEPS)

.PHONY: demo test test-slow test-browser benchmark benchmark-1m benchmark-1m-history benchmark-loop benchmark-recall benchmark-uplift benchmark-staging benchmark-scoring benchmark-measurement evaluate-early-warning dev clean

# uv installs the same pinned set as pip in a third of the time (23 s against 67 s on 2 cores); pip if uv fails.
# Compiled at install (as pip does): where PYTHONDONTWRITEBYTECODE is set, every process would compile its imports
# again (8 s more to start the pipeline here).
comma := ,
install = ( $(PY) -m pip install --quiet uv==0.13.9 && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '$(1)' ) \
	  || $(PY) -m pip install --quiet -e '$(1)'

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(call install,.[test])
	rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: $(STAMP)  ## simulate the embedded app, run every day through the pipeline, print the result
	$(VENV)/bin/churn-recall demo

test: $(STAMP)  ## the default test suite (slow and browser tests excluded), a test module per worker
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder --durations=12

# The slow suite's Spark equality test needs the `spark` extra (pyspark, dbt-spark; Java 17+ on PATH).
SPARK_STAMP := $(VENV)/.spark-$(DEPS)
$(SPARK_STAMP): $(STAMP)
	$(call install,.[test$(comma)spark])
	rm -f $(VENV)/.spark-*; touch $(SPARK_STAMP)

test-slow: $(SPARK_STAMP)  ## scale benchmarks and long simulations (installs the spark extra first)
	$(PY) -m pytest -q -m slow -rP  # -rP: the figures the slow tests print (coverage, timings) stay in the log

test-browser: $(STAMP)  ## render the recall report in headless Chromium (installs Debian's chromium if missing)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(PY) -m pytest -q -m browser

benchmark: $(STAMP)  ## 100,000 users x 120 days: backfill, early and late partitions, fixed cost, peak memory, reference ratio
	$(VENV)/bin/churn-recall benchmark --users 100000 --days 120

benchmark-1m: $(STAMP)  ## one daily partition at 1 million users (8 days of history; its median of three first runs), against the reference query
	$(VENV)/bin/churn-recall benchmark --users 1000000 --days 8 --repeats 3

benchmark-1m-history: $(STAMP)  ## the same at 1 million users on 35 days of history (about 31 minutes and 10 GB of disk): a 25-day range, then the late day
	$(VENV)/bin/churn-recall benchmark --users 1000000 --days 35

benchmark-loop: $(STAMP)  ## seconds per closed-loop day of the simulated app (20,000 users)
	$(VENV)/bin/churn-recall benchmark-loop --users 20000 --days 5

benchmark-recall: $(STAMP)  ## the strategy library applied to 1 million synthetic at-risk users, seconds per phase
	$(VENV)/bin/churn-recall benchmark-recall --users 1000000

benchmark-uplift: $(STAMP)  ## planning 1 million synthetic users with the uplift models: refit, decide, plan
	$(VENV)/bin/churn-recall benchmark-uplift --users 1000000

benchmark-staging: $(STAMP)  ## one landing day of a 100,000-user app: ingestion, staging and the events contract, wall and CPU seconds
	$(VENV)/bin/churn-recall benchmark-staging --users 100000

benchmark-scoring: $(STAMP)  ## one churn-model refit on 20,000 users x 120 days, and scoring 1 million users
	$(VENV)/bin/churn-recall benchmark-scoring

benchmark-measurement: $(STAMP)  ## the measurement step's work on the last three days of the demo's warehouse (run `make demo` first)
	$(VENV)/bin/churn-recall benchmark-measurement

evaluate-early-warning: $(STAMP)  ## churn probability vs rules vs recency vs BG/NBD, per preset (and CDNOW)
	$(VENV)/bin/churn-recall evaluate-early-warning --cdnow

dev: $(STAMP)  ## the Dagster UI on the same code location; its instance (run history) lives in .dagster_home/
	mkdir -p .dagster_home && touch .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf data dbt_project/target dbt_project/logs
