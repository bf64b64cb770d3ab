# felhom-hub: one static-ish binary with the web app embedded, plus the asset seed.
# Build: docker build -t felhom-hub:0.1.0 .   (the tag is the workspace version, as in manifests/)
# It runs as uid 10001 with a read-only root filesystem: /data is the one writable path (the
# database, the key file, assets, and temporary files through TMPDIR).
FROM rust:1.95-bookworm AS build
# Debian's packages follow the pinned bookworm image; pinning each version would only break the build.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `cargo xtask dist` installs the pinned web tools (wasm target, trunk, wasm-bindgen-cli,
# binaryen from npm), builds the web app and then the release server that embeds it.
RUN cargo xtask dist && cp target/release/felhom-hub /felhom-hub

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data felhom \
    && mkdir -p /data && chown felhom /data
COPY --from=build /felhom-hub /usr/local/bin/felhom-hub
COPY assets-seed/ /usr/share/felhom/assets-seed/
ENV HUB_SERVER__DATA_DIR=/data \
    HUB_SERVER__LISTEN=:8080 \
    TMPDIR=/data
USER 10001
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["felhom-hub", "serve"]
