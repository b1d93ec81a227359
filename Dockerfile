# The Woodpecker / Drone plugin image: settings arrive as PLUGIN_*, the entrypoint is the step.
#   docker build -t alba .
#   docker run --rm -v "$PWD:/work" -w /work -e PLUGIN_NAME=albatros -e PLUGIN_STATIC_DIR=df alba
FROM python:3.11-slim

# git: the commit date (image `created` annotation) and local tags come from the checkout.
# safe.directory: CI workspaces belong to another user than the one this image runs as.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory '*'

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Exact versions the test suite ran with (`pip freeze` of the project's venv); --no-deps
# below makes a missing pin fail the build instead of pulling an unpinned version.
RUN pip install --no-deps \
      annotated-types==0.8.0 \
      attrs==26.1.0 \
      boto3==1.44.8 \
      botocore==1.44.8 \
      certifi==2026.10.19.post1 \
      charset-normalizer==3.5.3 \
      gitdb==4.0.12 \
      GitPython==3.2.1 \
      idna==3.20 \
      isal==1.9.1 \
      jmespath==1.1.0 \
      jsonschema==4.26.0 \
      jsonschema-specifications==2025.9.1 \
      oras==0.2.43 \
      pydantic==2.14.4 \
      pydantic_core==2.50.5 \
      pydantic-settings==2.16.3 \
      python-dateutil==2.9.0.post0 \
      python-dotenv==1.2.4 \
      referencing==0.37.0 \
      requests==2.34.2 \
      rpds-py==2026.9.1 \
      s3transfer==0.19.3 \
      six==1.17.0 \
      smmap==5.0.3 \
      typing_extensions==4.16.0 \
      typing-inspection==0.4.5 \
      tzdata==2026.6 \
      urllib3==2.8.0 \
      zstandard==0.25.0

# The package is used from its folder (no build step: nothing unpinned enters the image);
# PYTHONPATH also makes `python -m alba_action …` work inside the image.
COPY entrypoint.py /opt/alba/
COPY alba_action /opt/alba/alba_action
ENV PYTHONPATH=/opt/alba
RUN pip check && python -c "import alba_action.action"

# uid 1000: the usual owner of CI workspaces (the checkout must be writable for output-file
# and file:// targets); see docs/action.md for workspaces owned by root.
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin alba
USER alba
ENTRYPOINT ["python", "/opt/alba/entrypoint.py"]
