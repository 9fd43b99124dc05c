# The local server as a container, for deployments that keep the previous compose setup: the
# whole API on port 8082 as a non-root user, one static binary on an empty base. Build it with
# `make container` (it prepares the context: the binary, CA certificates, the user).
# Configure it with the variables of the README (DATABASE_URL or POSTGRES_*, JWT_SECRET or
# /run/secrets/jwt_secret, S3_ENDPOINT or MINIO_HOST, AUTH_SERVICE_URL). Probe: GET /health
# (200 healthy, 503 unhealthy).
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY passwd group /etc/
COPY --chown=10001:10001 data /data
COPY user-service /usr/local/bin/user-service
USER 10001:10001
ENV BIND=0.0.0.0 PORT=8082 DATA_DIR=/data LOG_FORMAT=json \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8082
ENTRYPOINT ["/usr/local/bin/user-service"]
CMD ["serve"]
