# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test test-unit bench lint lint-check compose-check typecheck messages clean install lock

# Installs exactly the versions pinned in requirements.lock; `make lock` re-pins them from
# pyproject.toml's ranges (an upgrade is a deliberate commit of the new lock file).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e ".[dev]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^rehab-outcomes' > requirements.lock
	rm -rf .venv-lock

install: $(VENV)/.installed

# Embedded default: SQLite file and a filesystem Celery broker under ./var, web on
# http://127.0.0.1:8000 with DEBUG off (static files collected and served by whitenoise, a
# secret key generated once into var/), one worker with beat, and the seeded demo cohort.
# DJANGO_DEBUG=1 make run turns Django's debug pages on for development.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@echo "Demo logins: demo-patient / demo-therapist / demo-manager, password: demo"
	@trap 'kill 0' EXIT INT TERM; \
	$(VENV)/bin/celery -A config worker --beat --loglevel=info --concurrency=2 \
	    --schedule var/celerybeat-schedule & \
	$(PY) manage.py runserver 127.0.0.1:8000 --noreload

# The whole suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI: PostgreSQL and
# Redis on 127.0.0.1); without them SQLite, and the integration tests skip themselves.
test: install
	@bash scripts/ensure-chromium.sh || echo "chromium not available: browser tests will skip"
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-unit: install
	$(PY) -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: install
	$(PY) -m pytest -p no:cacheprovider -m bench tests/benchmarks -s $(PYTEST_ARGS)

lint: install compose-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# Parses docker/compose.yml with a real Compose implementation (Debian's docker-compose is
# installed when missing and root; the check skips, and says so, when none is available).
compose-check:
	@bash scripts/ensure-compose.sh || echo "docker-compose not available: the compose check will skip"
	bash scripts/check-compose.sh

lint-check: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy .

messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles
