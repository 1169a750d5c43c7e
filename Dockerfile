# lossd container image: build on Debian 12, run on Debian 12 slim.
#
#   docker build -t lossd:0.1.0 .      (or: podman build -t lossd:0.1.0 .)
#   docker run --rm -p 8080:8080 lossd:0.1.0
#
# Generic x86-64 build: no -march=native; lossd picks its SIMD kernels at run
# time. Without a Docker daemon, docker/build-image.sh builds and tests this
# file unchanged with podman.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libmicrohttpd-dev libopenblas-dev zlib1g-dev python3-yaml \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLOSSD_BUILD_TESTS=OFF \
 && cmake --build build -j2 --target lossd \
 && install -D -m 0755 -s build/lossd /out/lossd

FROM debian:bookworm-slim
# Runtime libraries only. libmicrohttpd12 brings libgnutls30;
# libopenblas0-pthread brings libgfortran5.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 lossd \
 && useradd --system --uid 65532 --gid lossd --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin lossd
COPY --from=build /out/lossd /usr/local/bin/lossd
# Fail the build here, not at run time, if a shared library is missing.
RUN ! ldd /usr/local/bin/lossd | grep -F 'not found'

# OpenBLAS ignores the cgroup CPU quota: lossd parallelises across requests.
ENV OPENBLAS_NUM_THREADS=1
USER 65532:65532
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/lossd", "--probe", "http://127.0.0.1:8080/healthz"]
# Exec form: lossd is PID 1 and handles SIGTERM itself (stop accepting, let
# in-flight requests finish, exit 0). Arguments after the image name replace
# CMD, e.g. --port 9000.
ENTRYPOINT ["/usr/local/bin/lossd"]
CMD ["--port", "8080"]
