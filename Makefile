# The User Service. `make run` serves the whole API locally; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 8082
DATA_DIR ?= ./.data
export PORT DATA_DIR

BIN := $(CARGO) run --quiet -p server --bin user-service --

.PHONY: help run token demo migrate openapi test lint fmt check

## help: this list of targets (the default)
help:
	@awk '/^## [a-z-]+:/ { sub(/^## /, ""); split($$0, part, ": "); printf "  make %-15s %s\n", part[1], substr($$0, length(part[1]) + 3); next } /^## / { sub(/^## /, ""); printf "  %-20s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## run: build and start the whole API on 127.0.0.1:8082 (PORT; SQLite and images under ./.data)
run:
	@echo "building user-service (about 3 minutes the first time, seconds after that)..." >&2
	@$(CARGO) build -p server --bin user-service
	$(BIN) serve

## token: print a development access token (USER_ID, EMAIL, NAME optional)
token:
	@$(BIN) token

## demo: give the user demo-user 60 days of history in the local database and print its token
demo:
	@$(BIN) demo

## migrate: apply pending migrations to DATABASE_URL (or the local SQLite file)
migrate:
	$(BIN) migrate

## openapi: regenerate functions/health/openapi.json from the code's annotations
openapi:
	$(BIN) openapi > functions/health/openapi.json

## test: every test, against real PostgreSQL, SQLite, an S3 server and a wiremock Auth Service
test:
	scripts/with-test-services.sh scripts/run-tests.sh

## lint: formatting, clippy (warnings as errors), the deployment template and compose.yaml
lint: lint-template lint-compose
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

## fmt: format the code with rustfmt
fmt:
	$(CARGO) fmt --all

## check: type-check every crate and test without building binaries (the quickest feedback)
check:
	$(CARGO) check --workspace --all-targets --all-features

.PHONY: build deploy watch lint-template lint-compose bench

## bench: cold starts, warm latency, growth, legacy database, fleets; table + target/bench/results.json (BENCH_PARTS=cold,direct,warm,growth,legacy,fleet: only those)
bench:
	scripts/bench.sh


## build: every function's bootstrap for Lambda (arm64, release, cargo-lambda), with sizes
build:
	scripts/build-lambdas.sh

## lint-template: cfn-lint and sam validate on template.yaml
lint-template:
	scripts/lint-template.sh

## lint-compose: compose.yaml read by podman-compose, and what it names declared
lint-compose:
	scripts/lint-compose.sh

## deploy: migrate the target database (DEPLOY_DATABASE_URL), then sam build and sam deploy
## (DEPLOY_ARGS go to sam deploy, e.g. DEPLOY_ARGS="--config-env production")
deploy:
	scripts/deploy.sh $(DEPLOY_ARGS)

## watch: the functions under `cargo lambda watch` on :9000 (needs DATABASE_URL=postgres://…)
watch:
	scripts/watch.sh

.PHONY: test-api-page container test-container

## test-api-page: the API page (GET /docs) in headless Chromium, offline: every operation listed,
## Try it out with a token (UPDATE_SCREENSHOT=1 refreshes docs/api-page.png); CI runs it
test-api-page:
	scripts/test-api-page.sh

## container: the local server as the image user-service:latest (static musl binary, FROM
## scratch, non-root), built with podman; prints its size
container:
	scripts/container.sh

## test-container: the image run against this machine's PostgreSQL with the previous service's
## secrets in /run/secrets and its variables: /health, a request with a token, not root; CI runs it
test-container:
	scripts/with-test-services.sh scripts/test-container.sh

.PHONY: stack test-stack

## stack: template.yaml deployed on LocalStack (Lambda, S3, Secrets Manager, CloudFormation) and
## the API through a stand-in for its HTTP API on 127.0.0.1:8083 (or PORT); serves until Ctrl-C
stack:
	PORT=$(if $(filter file,$(origin PORT)),8083,$(PORT)) scripts/stack.sh

## test-stack: the stack suite through a fresh stack, then its self-test on a copy broken on
## purpose (STACK_SELF_TEST=0 skips that); CI runs it after make test
test-stack:
	scripts/test-stack.sh
