# The User Service. `make run` serves the whole API locally; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 8082
DATA_DIR ?= ./.data
export PORT DATA_DIR

BIN := $(CARGO) run --quiet -p server --bin user-service --

.PHONY: run token migrate openapi test lint fmt check

## run: build and start the whole API on 127.0.0.1:$(PORT) (SQLite and images under $(DATA_DIR))
run:
	$(BIN) serve

## token: print a development access token (USER_ID, EMAIL, NAME optional)
token:
	@$(BIN) token

## migrate: apply pending migrations to DATABASE_URL (or the local SQLite file)
migrate:
	$(BIN) migrate

## openapi: regenerate functions/health/openapi.json from the code's annotations
openapi:
	$(BIN) openapi > functions/health/openapi.json

## test: every test, against real PostgreSQL, SQLite, an S3 server and a wiremock Auth Service
test:
	scripts/with-test-services.sh scripts/run-tests.sh

## lint: formatting and clippy, warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
