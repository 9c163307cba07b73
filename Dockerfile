# syntax=docker/dockerfile:1
#
# The one image every Airflow service of docker-compose.yaml runs (api-server, scheduler, dag-processor,
# triggerer, Celery workers, airflow-init, flower). It holds the product and its runtime dependencies only:
# requirements.lock has no dev extra (pytest, ruff: requirements-dev.lock, for .venv), and the dev tools
# (devtools/: sandbox, test harness, rehearsal responder, demo) are never copied. The WeCom sandbox of the
# `rehearsal` profile has its own image, devtools/Dockerfile.sandbox.
#
#   docker compose build            # or: docker build --pull -t wecom-offboarding:local .
#
# Base: the official Apache Airflow image. Its tag must name the same Airflow version as the apache-airflow
# pin in requirements.lock and the Python of pyproject.toml (requires-python 3.11); tests/deploy checks
# both, so after `make lock` changes Airflow, change this line in the same commit.
FROM apache/airflow:3.3.2-python3.11

LABEL org.opencontainers.image.title="wecom-offboarding" \
      org.opencontainers.image.description="WeCom offboarding and company wind-up on Apache Airflow" \
      org.opencontainers.image.licenses="Apache-2.0"

# --- 0. Directories ----------------------------------------------------------------------------------
# docker-compose.yaml mounts named volumes on config/ (the shared secrets), logs/ and backups/. A new named
# volume takes the owner and mode of the image directory it is mounted over, so creating them here, owned
# by the airflow user (uid 50000, group 0, as the official image expects), lets every service write to the
# volumes without running anything as root. config/ and backups/ (personal data) are closed to others.
# src/ is a scratch build directory, removed again in step 4.
USER root
RUN install --directory --owner=airflow --group=0 --mode=0770 \
        /opt/airflow/config /opt/airflow/backups /opt/airflow/src \
 && install --directory --owner=airflow --group=0 --mode=0775 \
        /opt/airflow/logs /opt/airflow/dags /opt/airflow/plugins /opt/airflow/include /opt/airflow/deploy
# The Chinese font the PDF evidence report embeds (offboarding.settings.pdf_font: OFFBOARDING_PDF_FONT,
# default /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc): the case-closing task writes the PDF
# and the api-server serves it. Without it the PDF alone is left out, with the reason in the task's XCom.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# pip must run as the airflow user in the official image (it installs into airflow's ~/.local environment).
USER airflow

# --- 1. Third-party packages: exactly requirements.lock -----------------------------------------------
# The runtime lock is the complete resolved set (uv pip compile, no extras) with one exact version per package. Installed with
# --no-deps, pip installs precisely those versions and resolves nothing, so no version floats in from the
# index, and every package the base image ships at another version is replaced by the locked one (the
# lock wins). The lock pins apache-airflow to this base image's version, so Airflow itself is unchanged.
COPY --chown=airflow:0 requirements.lock /opt/airflow/src/requirements.lock
RUN pip install --no-cache-dir --no-deps --requirement /opt/airflow/src/requirements.lock

# --- 2. The project ----------------------------------------------------------------------------------
# A regular (not editable) install of the wecom-offboarding distribution. Its apache_airflow_provider entry
# point registers the `wecom` connection type and its form, which a plugins/ folder alone cannot do.
# --no-deps: its dependencies are the ones installed from the lock in step 1. The build backend comes from
# pyproject's [build-system], pinned exactly (setuptools==80.9.0, wheel==0.45.1). README.md is needed
# because pyproject.toml names it as the package readme.
COPY --chown=airflow:0 pyproject.toml README.md /opt/airflow/src/
COPY --chown=airflow:0 plugins/ /opt/airflow/src/plugins/
RUN pip install --no-cache-dir --no-deps /opt/airflow/src

# --- 3. Prove it: the build fails unless every locked package is at its locked version ---------------
# and wecom-offboarding is installed with its provider entry point (deploy/verify_locked_install.py).
COPY --chown=airflow:0 deploy/verify_locked_install.py deploy/shared_secrets.py /opt/airflow/deploy/
RUN python /opt/airflow/deploy/verify_locked_install.py /opt/airflow/src/requirements.lock \
        --provider wecom-offboarding

# --- 4. What the Airflow processes read at run time ----------------------------------------------------
# DAG files go to the image's dags folder ([core] dags_folder = /opt/airflow/dags): changing a DAG means
# rebuilding the image, so every service always runs the same code. Only the thin top-level files of
# plugins/ (plugin registration, .airflowignore) go to the plugins folder: the offboarding package itself
# is installed in step 2 and must not be importable twice.
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 include/ /opt/airflow/include/
RUN find /opt/airflow/src/plugins -maxdepth 1 -type f \( -name '*.py' -o -name '.airflowignore' \) \
        -exec cp {} /opt/airflow/plugins/ \; \
 && rm -rf /opt/airflow/src

# Where offboarding.paths.include_dir() finds the duration policy, message templates and calendar overrides.
ENV OFFBOARDING_INCLUDE_DIR=/opt/airflow/include

# Every process of this image runs as the unprivileged airflow user, never as root. The entrypoint of the
# base image (dumb-init + /entrypoint) is kept.
USER airflow
WORKDIR /opt/airflow
