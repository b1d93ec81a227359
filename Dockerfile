# The Woodpecker / Drone plugin image: settings arrive as PLUGIN_*, the entrypoint is the step.
#   docker build -t alba .
#   docker run --rm -v "$PWD:/work" -w /work -e PLUGIN_NAME=albatros -e PLUGIN_STATIC_DIR=df alba
# BASE: any Debian-like image with python3 ≥ 3.11 and venv (the tests use a slim Debian
# bookworm made with mmdebstrap: `docker build --build-arg BASE=alba-base:bookworm-… .`).
# Under 200 MB on a slim base; what was left out, and why, is in docs/woodpecker.md.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# binutils (this stage only): the wheels' extension modules ship their debug symbols.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
# One locked dependency set, hashes required: the same versions as the action and the tests.
COPY requirements.lock /tmp/requirements.lock
# The base image's CA store (a proxy's CA added to it is then trusted by pip too).
# Then what the runtime never loads goes: pip and setuptools; zstandard's cffi backend (for
# PyPy); botocore's models of the AWS services alba does not call (s3 is the one it calls;
# sts, sso, sso-oidc and signin are those botocore's credential providers call); debug symbols.
RUN if [ -f /etc/ssl/certs/ca-certificates.crt ]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi \
 && python3 -m venv /opt/alba/venv \
 && /opt/alba/venv/bin/pip install --no-compile --require-hashes --only-binary=:all: -r /tmp/requirements.lock \
 && /opt/alba/venv/bin/pip uninstall -q -y pip setuptools \
 && site=$(/opt/alba/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && rm -f "$site"/zstandard/_cffi.*.so \
 && find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d \
      ! -name s3 ! -name sts ! -name sso ! -name sso-oidc ! -name signin -exec rm -rf {} + \
 && find /opt/alba/venv -name '*.so' -exec strip --strip-unneeded {} + \
 && find /opt/alba/venv -name __pycache__ -prune -exec rm -rf {} + \
 && /opt/alba/venv/bin/python -m compileall -q --invalidation-mode checked-hash "$site"

FROM ${BASE}
COPY --from=build /opt/alba/venv /opt/alba/venv
# The package is used from its folder (no build step: nothing unlocked enters the image).
COPY entrypoint.py /opt/alba/
COPY alba_action /opt/alba/alba_action
# No git binary: GitPython reads the checkout with its pure-Python object database
# (alba_action/context/local.py), and GIT_PYTHON_REFRESH=quiet lets it import without git.
ENV PYTHONPATH=/opt/alba PATH=/opt/alba/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GIT_PYTHON_REFRESH=quiet
# Compiled modules, keyed by the source's hash (no timestamps: the same bytes on every build).
# Without them every run compiles the dependencies again: 2.2 s to import instead of 0.6 s.
# uid 1000: the usual owner of CI workspaces (the checkout must be writable for the result
# file and file:// targets); see docs/woodpecker.md for workspaces owned by root.
RUN python -m compileall -q --invalidation-mode checked-hash /opt/alba/alba_action \
 && python -c "import alba_action.action, alba_action.cli, git" \
 && useradd --uid 1000 --create-home --shell /usr/sbin/nologin alba
USER alba
ENTRYPOINT ["/opt/alba/venv/bin/python", "/opt/alba/entrypoint.py"]
