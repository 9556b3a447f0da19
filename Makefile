# The README's vocabulary. Every target does its own set-up first; see ops/.
.PHONY: run run-scale shell test lint format train setup lock bench clean

run:            ## set up, train if needed, start everything, Ctrl-C stops it
	@ops/run.sh

run-scale:      ## the scale-out profile: PostgreSQL, Redis, two Rasa servers (see docs/deployment.md)
	@ops/run_scale.sh

shell:          ## talk to the assistant in the terminal (joins `make run`, or starts the stack); ARGS=--nlu
	@ops/shell.sh $(ARGS)

test:           ## set up, train if needed, then the whole suite
	@ops/test.sh

setup:          ## create or update both environments from the lock files
	@ops/setup.sh

train: setup    ## train the Rasa and routing models if their inputs changed (content hash)
	@.venv/bin/python -m ops.train
	@.venv/bin/python -m backend.routing build

lint: setup     ## ruff (lint and format check) and mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: setup    ## every benchmark in bench/
	@ops/bench.sh

lock:           ## re-resolve dependencies into requirements/*.lock
	@ops/lock.sh

clean:          ## remove environments, models and data
	rm -rf .venv .venv-rasa models var
