# syntax=docker/dockerfile:1
#
# One image per processor binary, chosen at build time (deploy/README.md):
#
#   docker build --build-arg PROCESSOR=player_composite_factors --build-arg BUILD_COMMIT=$(git rev-parse --short HEAD) \
#     -t player_composite_factors .
#
# The builder compiles one binary of the workspace. `framework/build.rs` fetches the prebuilt
# DuckDB library with `npm pack` into target/duckdb (hence Node/npm in the builder), and
# .cargo/config.toml links every binary with the rpath `$ORIGIN/../lib`, so the runtime stage
# only has to put the library in /app/lib next to /app/bin.

ARG RUST_VERSION=1.95
ARG PROCESSOR=player_composite_factors

FROM rust:${RUST_VERSION}-bookworm AS builder
ARG PROCESSOR
# The commit `--version` and run history report (`framework::build!`, read at compile time from
# the build's environment, where RUN sees every ARG); unset, they report the version alone.
ARG BUILD_COMMIT
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit); the results are copied out of
# the cached target folder inside the same step, since a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p "${PROCESSOR}" \
    && mkdir -p /out/bin /out/lib \
    && cp "target/release/${PROCESSOR}" /out/bin/ \
    && cp target/duckdb/libduckdb.so /out/lib/

FROM debian:bookworm-slim AS runtime
ARG PROCESSOR
# ca-certificates: TLS to the BigQuery and OAuth endpoints; libstdc++6: libduckdb.so is C++.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 processor \
    && useradd --system --uid 10001 --gid processor --no-create-home --shell /usr/sbin/nologin processor
COPY --from=builder /out/bin/${PROCESSOR} /app/bin/${PROCESSOR}
COPY --from=builder /out/lib/libduckdb.so /app/lib/libduckdb.so
# An exec-form ENTRYPOINT cannot expand a build arg, so a fixed name points at the binary; the
# dynamic loader resolves $ORIGIN from the real file, /app/bin, and finds /app/lib/libduckdb.so.
RUN ln -s "/app/bin/${PROCESSOR}" /app/bin/processor \
    && "/app/bin/${PROCESSOR}" --version
LABEL org.opencontainers.image.title="${PROCESSOR}" \
      org.opencontainers.image.description="NBA props processor ${PROCESSOR} (Cloud Run job)"
WORKDIR /app
USER processor:processor
ENV RUST_LOG=info
ENTRYPOINT ["/app/bin/processor"]
