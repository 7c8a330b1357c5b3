# syntax=docker/dockerfile:1
#
# MAMIS in a container: the one binary on Debian slim, running as a
# non-root user, with the database in the /data volume.
#
#   docker build -t mamis .
#   docker run -d --name mamis -p 8080:8080 -v mamis-data:/data \
#     -e MAMIS_BASE_URL=https://mamis.example.jp \
#     -e MAMIS_SMTP_URL=smtp://user:pass@mail.example.jp:587 \
#     -e MAMIS_MAIL_FROM='MAMIS <noreply@example.jp>' \
#     mamis
#
# Set MAMIS_SMTP_URL: without it mail is not delivered but stays in the
# local outbox, whose page opens only with the key in the start-up log
# (`docker logs mamis`: …/dev/outbox?key=…). Set MAMIS_BASE_URL too: links
# in mail are built from it.
# Operator commands run inside the container, through the running server:
#   docker exec mamis mamis admin announce --category 'お知らせ' --body '…'

# --- build ---------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
# Cargo.toml, Cargo.lock, src/ and assets/ are what the build needs (see
# .dockerignore). The cache mounts keep the registry and compiled
# dependencies between builds (BuildKit, the default builder since Docker 23).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin mamis \
 && cp target/release/mamis /usr/local/bin/mamis

# --- run -----------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: mail-send checks the SMTP server's certificate against
# the system store.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mamis \
 && useradd --system --uid 10001 --gid mamis --home-dir /data \
      --no-create-home --shell /usr/sbin/nologin mamis \
 && mkdir /data \
 && chown mamis:mamis /data \
 && chmod 0750 /data
COPY --from=build /usr/local/bin/mamis /usr/local/bin/mamis

# The database (mamis.redb), the operator socket (admin.sock) and an imported
# postal table live here; a new named volume takes the folder's owner above.
ENV MAMIS_DATA_DIR=/data \
    MAMIS_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
USER mamis:mamis
WORKDIR /data

# `mamis healthcheck` asks /healthz on MAMIS_ADDR (0.0.0.0 → 127.0.0.1) and
# exits 0 on a 200: no curl needed in the image. With MAMIS_TLS_CERT or
# MAMIS_TLS_DOMAIN set it asks over TLS, like the server answers.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["mamis", "healthcheck"]

# SIGTERM (docker stop) lets requests in flight finish, up to 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mamis"]
CMD ["serve"]
