# The Woodpecker / Drone plugin image: settings arrive as PLUGIN_*, the entrypoint is the step.
#   docker build -t alba .
#   docker run --rm -v "$PWD:/work" -w /work -e PLUGIN_NAME=albatros -e PLUGIN_STATIC_DIR=df alba
# BASE: any Debian-like image with python3 ≥ 3.11 and venv (the tests use a local Debian
# bookworm made with mmdebstrap: `docker build --build-arg BASE=alba-base:bookworm .`).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# One locked dependency set, hashes required: the same versions as the action and the tests.
COPY requirements.lock /tmp/requirements.lock
# The base image's CA store (a proxy's CA added to it is then trusted by pip too).
RUN if [ -f /etc/ssl/certs/ca-certificates.crt ]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi \
 && python3 -m venv /opt/alba/venv \
 && /opt/alba/venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock \
 && /opt/alba/venv/bin/pip uninstall -y pip \
 && find /opt/alba/venv -name __pycache__ -prune -exec rm -rf {} + \
 && /opt/alba/venv/bin/python -m compileall -q --invalidation-mode checked-hash /opt/alba/venv/lib

FROM ${BASE}
# git: the commit date (image `created` annotation) and local tags come from the checkout.
# safe.directory: CI workspaces belong to another user than the one this image runs as.
RUN (command -v git >/dev/null || (apt-get update \
      && apt-get install -y --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*)) \
 && git config --system --add safe.directory '*'
COPY --from=build /opt/alba/venv /opt/alba/venv
# The package is used from its folder (no build step: nothing unlocked enters the image).
COPY entrypoint.py /opt/alba/
COPY alba_action /opt/alba/alba_action
# Compiled modules, keyed by the source's hash (no timestamps: the same bytes on every build).
# Without them every run compiles the dependencies again: 2.2 s to import instead of 0.6 s.
RUN /opt/alba/venv/bin/python -m compileall -q --invalidation-mode checked-hash /opt/alba/alba_action
ENV PYTHONPATH=/opt/alba PATH=/opt/alba/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN python -c "import alba_action.action, alba_action.cli"
# uid 1000: the usual owner of CI workspaces (the checkout must be writable for output-file
# and file:// targets); see docs/action.md for workspaces owned by root.
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin alba
USER alba
ENTRYPOINT ["/opt/alba/venv/bin/python", "/opt/alba/entrypoint.py"]
