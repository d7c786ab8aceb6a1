# Build: docker build -t hubsync .
# Run:   docker run --rm -e DATABASE_URL=postgres://… -p 8080:8080 hubsync run

FROM rust:1-bookworm AS builder
WORKDIR /src
# hubsync uses no compile-time checked queries; migrations are embedded from migrations/.
ENV SQLX_OFFLINE=true
# The whole workspace: hubsync at the root and the simulator crates under crates/, which
# `hubsync sim` and `hubsync demo` link (.dockerignore leaves out target/ and node_modules/).
COPY . .
RUN cargo build --release --locked -p hubsync --bin hubsync

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/hubsync --create-home hubsync
COPY --from=builder /src/target/release/hubsync /usr/local/bin/hubsync
COPY config /etc/hubsync
USER hubsync
WORKDIR /var/lib/hubsync
ENV HUBSYNC__ADMIN__LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "hubsync"]
CMD ["run"]
