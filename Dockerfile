# syntax=docker/dockerfile:1.7
# Binnacle: one static binary (`binnacle`) with the Command Center embedded, on a distroless base.
#
#   docker build -t ghcr.io/binnacle-dev/binnacle:0.1.0 .
#
# Why musl + distroless/static: the binary is linked statically against musl (Alpine's toolchain builds the C
# parts — ring's crypto and the bundled SQLite — natively), so the runtime image needs no libc at all; the
# usual musl cost, its slow allocator, does not apply because binnacle uses mimalloc. distroless/static
# brings CA certificates, /etc/passwd with the `nonroot` user (65532) and nothing else: no shell, no package
# manager. The process writes nothing outside mounted volumes (SQLite lives wherever --database points, e.g.
# an emptyDir or a PVC), so it runs with readOnlyRootFilesystem.

# 1. The web UI (web/dist), built once with npm.
FROM docker.io/library/node:22-alpine AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# 2. The binary, statically linked (x86_64-unknown-linux-musl or aarch64-unknown-linux-musl: Alpine's host).
FROM docker.io/library/rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev gcc g++ make perl
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates crates
COPY --from=web /src/web/dist web/dist
# The UI is already built: embed web/dist as it is, never run npm here.
ENV BINNACLE_WEB_SKIP_BUILD=1 \
    CARGO_PROFILE_RELEASE_STRIP=symbols
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p binnacle-cli \
    && cp target/release/binnacle /binnacle \
    && ! ldd /binnacle 2>/dev/null | grep -q '=>'

# 3. Runtime: non-root, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /binnacle /usr/local/bin/binnacle
USER 65532:65532
# A writable HOME is not needed; point it at /tmp (an emptyDir in the chart) for tools that expect one.
ENV HOME=/tmp
EXPOSE 8080 8090 9090
ENTRYPOINT ["/usr/local/bin/binnacle"]
CMD ["--help"]
