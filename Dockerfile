# syntax=docker/dockerfile:1
# Build: the OpenSSL-backed signer uses cgo, so build on Debian with gcc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/sdkauth ./cmd/sdkauth \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/vonage-emulator ./cmd/vonage-emulator

# Run: libssl3 provides libcrypto 3, which the fast RS256 signer loads at
# start-up (SDKAUTH_SIGNER=auto falls back to pure Go without it);
# ca-certificates for HTTPS to the Vonage API.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent sdkauth \
 && install -d -o sdkauth -m 0700 /var/lib/sdkauth
COPY --from=build /out/sdkauth /out/vonage-emulator /usr/local/bin/
USER sdkauth
EXPOSE 8080
ENV SDKAUTH_ADDR=:8080
ENTRYPOINT ["sdkauth"]
CMD ["serve"]
