# Aftercare: `make demo` shows it working, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip

.PHONY: demo test bench venv system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# Dovecot is the real IMAP server the demo and the tests run on loopback; venv needs python3-venv;
# the database-outage tests start and stop a PostgreSQL server of their own (initdb, pg_ctl); the report's
# test renders its HTML in headless Chromium; the Postfix example settings are read back with postconf and postmap
# (installed as "No configuration": no main.cf, so no mail server is started).
system-deps:
	@missing=""; \
	{ command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; } || missing="$$missing dovecot-imapd"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ command -v postconf >/dev/null 2>&1 || [ -x /usr/sbin/postconf ]; } || missing="$$missing postfix"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (needs root)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  case "$$missing" in *postfix*) \
	    echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections;; \
	  esac; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Aftercare needs Python 3.11 or newer (set PYTHON=python3.11)")'

demo: system-deps venv
	$(VENV)/bin/aftercare demo

# Four workers on two cores: most tests wait on real servers, not on the CPU (README: "Running the tests").
PYTEST_WORKERS ?= 4
test: system-deps venv
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Not part of `make test`: a few minutes of load on loopback. Prints a table, rewrites the last-run
# block of bench/RESULTS.md and bench/last-run.json; BENCH_ARGS=--quick for smaller sizes.
bench: system-deps venv
	$(PY) bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
