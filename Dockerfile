# syntax=docker/dockerfile:1
# earshot: multi-stage build, slim non-root runtime.
# Build:  docker build -t earshot .
# Run:    docker run --rm -p 8080:8080 -e EARSHOT_PUBLIC_URL=http://localhost:8080 earshot
#                                                            (demo world, on this machine)
#         docker run --rm -p 8080:8080 -e EARSHOT_UPSTREAM=gateway \
#           -e EARSHOT_UPSTREAM_URL=https://gateway.example -e EARSHOT_API_KEY=... \
#           -e EARSHOT_PUBLIC_URL=https://earshot.example earshot
# EARSHOT_PUBLIC_URL is required: the image listens on every address, from which no
# URL visitors can open follows, and canonical, OpenGraph and oEmbed links need one.
# Without it earshot exits 2 and says so. Stopping takes up to EARSHOT_SHUTDOWN_GRACE
# (5 s) plus 10 s of draining: give `docker stop` / `--stop-timeout` 20 s.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# jemalloc (the binary's allocator) builds with make, which the slim image lacks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
# Dependencies first, so code changes don't rebuild them.
COPY Cargo.toml Cargo.lock ./
# (benches/render.rs must exist: the manifest names it.)
RUN mkdir -p src benches && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > benches/render.rs \
 && cargo build --release --locked \
 && rm -rf src benches
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY assets ./assets
COPY benches ./benches
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && strip target/release/earshot

FROM debian:bookworm-slim
# fonts-noto-cjk: the share cards load Noto Sans CJK from the system (too big to embed).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin earshot
COPY --from=build /src/target/release/earshot /usr/local/bin/earshot
USER 10001:10001
ENV EARSHOT_BIND=0.0.0.0:8080
EXPOSE 8080
# Liveness: GET /healthz; readiness: GET /readyz, which `earshot healthcheck` asks
# (the image has no curl). SIGTERM: not ready for the grace, then a bounded drain.
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/earshot", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/earshot"]
