# felhom-hub: one static-ish binary with the web app embedded, plus the asset seed.
# Build: docker build -t felhom-hub:dev .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `cargo xtask dist` installs the pinned web tools (wasm target, trunk, wasm-bindgen-cli,
# binaryen from npm), builds the web app and then the release server that embeds it.
RUN cargo xtask dist && cp target/release/felhom-hub /felhom-hub

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data felhom \
    && mkdir -p /data && chown felhom /data
COPY --from=build /felhom-hub /usr/local/bin/felhom-hub
COPY assets-seed/ /usr/share/felhom/assets-seed/
ENV HUB_SERVER__DATA_DIR=/data \
    HUB_SERVER__LISTEN=:8080
USER 10001
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["felhom-hub", "serve"]
