# wasim in a container: `docker build -t wasim .`, then `docker run --rm wasim scenario /scenarios/bic-burst.yaml`.
# Stage 1 builds a release binary with Swift's standard library linked in; stage 2 is Debian slim with what
# it loads at run time: OpenSSL 3, and libsrtp2 built against OpenSSL as scripts/build-libsrtp2.sh makes it
# (Debian's binary package uses NSS, which costs a third of wasim's CPU under media load).

FROM swift:6.3.1-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pkg-config libssl-dev dpkg-dev make gcc \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/build-libsrtp2.sh scripts/
RUN bash scripts/build-libsrtp2.sh
COPY . .
RUN swift build -c release --product wasim --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/wasim" /out/wasim

FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/libsrtp2.so.1 /usr/local/lib/
RUN ldconfig
COPY --from=build /out/wasim /usr/local/bin/wasim
COPY Scenarios /scenarios
# Results and certificates go to /work (mount a volume there, or override --results and --certs).
WORKDIR /work
# SIP over TLS (Meta's 5061), UDP and TCP for lab peers, Prometheus metrics.
EXPOSE 5061/tcp 5060/udp 5060/tcp 9464/tcp
ENTRYPOINT ["wasim"]
CMD ["--help"]
