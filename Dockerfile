# syntax=docker/dockerfile:1
# AIMDS as an HTTP service: `docker build -t aimds . && docker run -p 8080:8080 -v aimds:/var/lib/aimds aimds`.
# Skills, classifier weights and the default swarm config are compiled into the binary, so the image is the
# binary, CA certificates (for the optional LLM judge) and an unprivileged user.

# --- build ---------------------------------------------------------------------------------------------------
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target dir between builds (BuildKit); --locked builds what CI tested.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin aimds \
    && cp target/release/aimds /usr/local/bin/aimds \
    && strip /usr/local/bin/aimds

# --- run -----------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --gid 0 --home-dir /var/lib/aimds --no-create-home aimds \
    && mkdir -p /var/lib/aimds && chown 10001:0 /var/lib/aimds && chmod 0770 /var/lib/aimds
COPY --from=build /usr/local/bin/aimds /usr/local/bin/aimds
USER 10001
# The memory (SQLite + vector index): mount a volume here. The audit chain lives in it.
ENV AIMDS_DB=/var/lib/aimds/memory.db
VOLUME ["/var/lib/aimds"]
EXPOSE 8080
# Beyond loopback, set AIMDS_TOKEN (clients then send `Authorization: Bearer <token>`).
ENTRYPOINT ["/usr/local/bin/aimds"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
