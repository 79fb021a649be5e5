# The README's two commands: `make run` and `make test`. Both install uv (with pip) when it is missing.
.PHONY: run test lint

PIP_UV := python3 -m pip install --quiet --disable-pip-version-check uv
# uv on PATH, else as a Python module, else installed with pip: for this user, then past a PEP 668
# "externally managed" guard, then into the active virtual environment (where --user is refused).
UV := $(shell if uv --version >/dev/null 2>&1; then echo uv; \
	elif python3 -m uv --version >/dev/null 2>&1; then echo "python3 -m uv"; \
	else { $(PIP_UV) --user || $(PIP_UV) --user --break-system-packages || $(PIP_UV); } >/dev/null 2>&1; \
	if python3 -m uv --version >/dev/null 2>&1; then echo "python3 -m uv"; fi; fi)

ifeq ($(strip $(UV)),)
$(error uv is missing and pip could not install it: install uv (python3 -m pip install --user uv) and run make again)
endif

run:
	$(UV) run klantpet run

test:
	$(UV) run pytest

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
