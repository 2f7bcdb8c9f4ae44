# Every target creates .venv (if missing) and installs what it needs into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

DEMO_DIR := runs/demo
DEMO_PHOTO := data/demo/skimage_astronaut.jpg
# Set GATED_INPAINT_OFFICIAL_CHECKPOINT to a downloaded official checkpoint folder (e.g.
# release_places2_256) and `make demo` exports and uses it instead of training.
GATED_INPAINT_OFFICIAL_CHECKPOINT ?=
BENCH_ARGS ?=
# Test processes (pytest-xdist); 0 runs the suite in this process.
TEST_WORKERS ?= 2

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
ifeq ($(GATED_INPAINT_OFFICIAL_CHECKPOINT),)
	$(BIN)/python train.py --flagfile=configs/demo.flags --model_dir=$(DEMO_DIR)
	$(BIN)/python export.py --model_dir=$(DEMO_DIR) --export_dir=$(DEMO_DIR)/export
else
	$(BIN)/python export.py --official_checkpoint=$(GATED_INPAINT_OFFICIAL_CHECKPOINT) \
		--export_dir=$(DEMO_DIR)/export_official
endif
	$(BIN)/python demo.py --image $(DEMO_PHOTO) --output $(DEMO_DIR)/demo.png --model \
		$(if $(GATED_INPAINT_OFFICIAL_CHECKPOINT),$(DEMO_DIR)/export_official,$(DEMO_DIR)/export)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Long (see bench/run.py); `make bench BENCH_ARGS=--quick` checks that it works in minutes.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# ruff, and the layer contract of setup.cfg (import-linter): no upward import, no cycle.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
