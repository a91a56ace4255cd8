# The README's two commands: `make dev` (serve on the embedded default) and `make test` (everything).
# PG_MAJOR=17 runs any target on PostgreSQL 17 instead of 15 (its own cluster on LOCAL_DB_PORT_17,
# see scripts/localdb.sh).
SHELL := /bin/bash
PG_MAJOR ?= 15
LOCAL_DB_PORT ?= 54330
LOCAL_DB_PORT_17 ?= $(shell echo $$(( $(LOCAL_DB_PORT) + 100 )))
export PG_MAJOR LOCAL_DB_PORT LOCAL_DB_PORT_17
PORT ?= 3001
DB := scripts/localdb.sh
PY := .venv/bin
# $(shell) does not see exported variables before GNU make 4.4: pass them (command-line ones too).
DB_ENV := PG_MAJOR=$(PG_MAJOR) LOCAL_DB_PORT=$(LOCAL_DB_PORT) LOCAL_DB_PORT_17=$(LOCAL_DB_PORT_17)
DB_PORT := $(shell $(DB_ENV) $(DB) port)
DATABASE_URL := $(shell $(DB_ENV) $(DB) url postgres)

.PHONY: dev db stop test test-sql test-py lint bench bench-deps deps

deps:
	@$(DB) deps

## Start (or reuse) the local cluster, reset it (migrations + seed); last line: DATABASE_URL=...
db: deps
	@$(DB) start
	@$(DB) reset postgres
	@echo "DATABASE_URL=$(DATABASE_URL)"

## Database as above, then the API on http://127.0.0.1:$(PORT) in development mode.
## Operator commands in another shell: `source .venv/bin/activate`, then `flask --app api --help`.
dev: db
	@echo "operator commands (another shell): source .venv/bin/activate && flask --app api --help"
	FLASK_DEBUG=0 APP_ENV=development DATABASE_URL='$(DATABASE_URL)' \
	  $(PY)/flask --app api run --host 127.0.0.1 --port $(PORT)

stop:
	@$(DB) stop

## Every test: pgTAP on a freshly reset database, then pytest. What .ci/run calls.
test:
	@$(MAKE) --no-print-directory test-sql test-py

## pgTAP alone (starts the cluster if needed); `.ci/run` runs it on PostgreSQL 17 as well.
test-sql: deps
	@$(DB) start
	@$(DB) reset postgres
	@psql -X -q -h 127.0.0.1 -p $(DB_PORT) -U postgres -d postgres \
	  -c 'create extension if not exists pgtap with schema extensions'
	pg_prove --ext .sql -h 127.0.0.1 -p $(DB_PORT) -U postgres -d postgres supabase/tests/

test-py:
	DATABASE_URL='$(DATABASE_URL)' $(PY)/pytest -q

## `supabase db lint` needs plpgsql_check in the database it checks: Debian's package for the
## PostgreSQL 15 cluster (the PostgreSQL 17 npm package has none). Reports; the findings known today
## are explained in the README ("Linting the functions").
lint: deps
	@[ -f /usr/share/postgresql/15/extension/plpgsql_check.control ] || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq postgresql-15-plpgsql-check >/dev/null; }
	@PG_MAJOR=15 $(DB) start
	./node_modules/.bin/supabase db lint --db-url "$$(PG_MAJOR=15 $(DB) tcp-url postgres)" --schema public,private --level warning

## Bench-only tools (not needed by `make test`): wrk from apt, py-spy for profiling gunicorn workers.
bench-deps: deps
	@command -v wrk >/dev/null || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq wrk >/dev/null; }
	@[ -x $(PY)/py-spy ] || $(PY)/pip install -q --disable-pip-version-check py-spy

## Ceiling, RPC, webhook, contention and scale figures on a separate `bench` database
## (see bench/README.md); prints a table and writes bench/results/latest.json.
bench: bench-deps
	@$(DB) start
	LOCAL_DB_PORT=$(DB_PORT) $(PY)/python bench/run.py
