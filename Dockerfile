# The tau gateway image, built by `fly deploy` (fly.toml [build]).
# Builder: the official Rust image; runtime: a minimal Debian with a non-root user.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tau-coding-agent \
 && strip target/release/tau

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data/tau --shell /usr/sbin/nologin tau \
 && mkdir -p /data/tau/deployment \
 && chown -R tau:tau /data/tau
COPY --from=builder /src/target/release/tau /usr/local/bin/tau
USER tau
# With no arguments the image serves the gateway (these match fly.toml [env]).
ENV TAU_TRANSPORT_MODE=gateway \
    TAU_GATEWAY_OPENRESPONSES_BIND=0.0.0.0:8080 \
    TAU_DEPLOYMENT_STATE_DIR=/data/tau/deployment
EXPOSE 8080
STOPSIGNAL SIGINT
ENTRYPOINT ["tau"]
