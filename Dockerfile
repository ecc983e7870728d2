# syntax=docker/dockerfile:1
# quirkgate's container image: built in a Rust image, run from a distroless
# one (no shell, no package manager), as an unprivileged user.
#   docker build -t quirkgate .
#   docker run -p 8080:8080 -e TIKTOK_TOKEN_URL=... quirkgate
# tests/it/deploy.rs checks this file's structure (images are not built there).

FROM rust:1-bookworm AS build
# Pingora's zlib-ng needs cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Only the gateway: the mocks (crates/quirkgate-mocks) never enter the image.
RUN cargo build --release --locked -p quirkgate --bin quirkgate \
 && strip target/release/quirkgate \
 && cp target/release/quirkgate /quirkgate

# glibc and libgcc, nothing else; "nonroot" is uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /quirkgate /usr/local/bin/quirkgate
COPY conf/quirkgate.yaml /etc/quirkgate/quirkgate.yaml
USER 65532:65532
EXPOSE 8080 9091
# No shell to run curl with: the binary probes itself (exit 0 on 200).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/quirkgate", "healthcheck", "http://127.0.0.1:9091/healthz"]
ENTRYPOINT ["/usr/local/bin/quirkgate"]
CMD ["--config", "/etc/quirkgate/quirkgate.yaml"]
