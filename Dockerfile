# Build: the release binary, with SQLite bundled and libpq for PostgreSQL.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
COPY data ./data
COPY assets ./assets
# The manifest names the benchmarks; cargo reads them even to build the binary alone.
COPY benches ./benches
RUN cargo build --release --locked --bin dvk

# Run: a small image, a non-root user, configuration by environment.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/dvk --create-home dvk
COPY --from=build /src/target/release/dvk /usr/local/bin/dvk
COPY --from=build /src/data /usr/share/dvk/data
COPY --from=build /src/assets/fonts/OFL.txt /usr/share/doc/dvk/fonts-OFL.txt
USER dvk
WORKDIR /var/lib/dvk
# SQLite at /var/lib/dvk/dvk.db and attachments in /var/lib/dvk/dvk-files by default (mount a
# volume at /var/lib/dvk, or set DVK_STORAGE=s3://bucket/prefix with the AWS_* variables);
# set DVK_DATABASE_URL=postgres://… for PostgreSQL,
# DVK_JWT_SECRET (or DVK_JWT_JWKS) for tokens and DVK_DATA_KEYS for secrets at rest (`dvk data-key`):
# without them the service refuses to start.
# MALLOC_ARENA_MAX: glibc's default of 8 arenas per core lets each blocking thread keep freed
# memory of its own (peak 208 MiB against 124 in the scale benchmark, at some throughput).
ENV DVK_BIND=0.0.0.0:8080 \
    DVK_DATABASE_URL=/var/lib/dvk/dvk.db \
    MALLOC_ARENA_MAX=2 \
    DVK_DRAIN_SECS=5 \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dvk"]
CMD ["serve"]
