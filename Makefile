# The two set-up commands of README.md. VENV lets CI use a throwaway virtualenv.
VENV ?= .venv
PYTHON ?= python3
DEMO ?= examples/coffee-shop examples/member-card
WXREC = $(VENV)/bin/wxrec

.PHONY: demo test lint

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# Install wxrec and run the main job against the embedded emulator: validate, plan, apply, plan again.
demo: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --editable .
	$(WXREC) validate $(DEMO)
	$(WXREC) plan $(DEMO) --api emulator
	$(WXREC) apply $(DEMO) --api emulator --auto-approve
	$(WXREC) plan $(DEMO) --api emulator --detailed-exitcode

# Install wxrec with its test extras and run the whole test suite; scripts/ensure-postgres installs and starts
# the PostgreSQL the state backend's tests use (and leaves it running for the next run).
test: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --editable ".[test]"
	scripts/ensure-chromium
	@# pytest exits 5 when it collects no tests: say so plainly rather than fail as if a test had.
	url="$$(scripts/ensure-postgres)" || exit 1; \
	WXREC_TEST_POSTGRES_URL="$$url" $(VENV)/bin/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --editable ".[test]"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
