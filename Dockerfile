# The local server as a container, for deployments that keep the previous compose setup:
# the whole API on port 8082, as a non-root user. Configure it with the variables of the
# README (DATABASE_URL or POSTGRES_*, JWT_SECRET or /run/secrets/jwt_secret, S3_ENDPOINT or
# MINIO_HOST, AUTH_SERVICE_URL). Probes: GET /health (200 healthy, 503 unhealthy).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p server --bin user-service

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home user-service
COPY --from=build /src/target/release/user-service /usr/local/bin/user-service
USER user-service
ENV BIND=0.0.0.0 PORT=8082 DATA_DIR=/data LOG_FORMAT=json
EXPOSE 8082
ENTRYPOINT ["/usr/local/bin/user-service"]
CMD ["serve"]
