# syntax=docker/dockerfile:1
#
# One image with every TicketView binary (command-svc, projector, query-svc, notifier,
# waiting-room, loadgen, tv-token, tv-provision, tv-keys, tv-scanner-key); each compose service picks its command.
# Build: `docker compose build` or `docker build -t ticketview .`. Checked by ./scripts/check-compose.

# --- builder: the toolchain the project is built and tested with (Rust 1.95).
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target directory are cache mounts: a rebuild after a code change recompiles
# only the workspace's crates. --locked: exactly the dependency versions in Cargo.lock.
# The target directory is a cache, not a layer, so the binaries are copied out of it.
ARG BINARIES="command-svc projector query-svc notifier waiting-room loadgen tv-token tv-provision tv-keys tv-scanner-key"
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace --bins \
    && mkdir -p /out \
    && for binary in ${BINARIES}; do cp "target/release/${binary}" /out/; done

# --- runtime: slim Debian of the same release (same glibc), no toolchain, a non-root user.
FROM debian:bookworm-slim AS runtime
# curl: the compose health checks call /healthz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl=7.88.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ticketview \
    && useradd --system --uid 10001 --gid ticketview --no-create-home --shell /usr/sbin/nologin ticketview
COPY --from=builder /out/ /usr/local/bin/
USER 10001:10001
# Services listen on all interfaces inside the container; compose maps the ports.
ENV RUST_LOG=info \
    TV_LOG_FORMAT=json
EXPOSE 8080 8081 8082 8083
CMD ["command-svc"]
