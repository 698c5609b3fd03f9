// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "wasim",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "wasim", targets: ["WasimCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        /// Pure SIP message model, parser and serializer (RFC 3261 §7, §20, §25). No I/O.
        .target(name: "SIPCore", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        /// Digest authentication (RFC 2617, RFC 7616, RFC 8760), client and server side.
        .target(name: "SIPAuth", dependencies: ["SIPCore", .product(name: "Crypto", package: "swift-crypto")]),
        /// Transaction and dialog state machines (RFC 3261 §12, §17; RFC 6026). Pure: time is an input.
        .target(name: "SIPTransaction", dependencies: ["SIPCore"]),
        /// SwiftNIO transports (UDP, TCP, TLS) and the per-event-loop SIP endpoint that drives the machines.
        .target(name: "SIPTransport", dependencies: [
            "SIPCore", "SIPTransaction", "CResolv",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        /// Test CA and server certificates made in Swift (swift-certificates).
        .target(name: "WasimCerts", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        /// libsrtp2 (Debian libsrtp2-dev): SRTP and SRTCP.
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        /// OpenSSL 3 (Debian libssl-dev) for DTLS-SRTP, with one-line wrappers of the macros Swift cannot import.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        /// glibc's DNS resolver, for SRV lookups (RFC 3263).
        .systemLibrary(name: "CResolv"),
        /// Media: SDP, SRTP (libsrtp2), DTLS-SRTP (OpenSSL), STUN for ICE-lite, RTP pacing and clipping metrics.
        .target(name: "WasimMedia", dependencies: [
            "CSRTP", "COpenSSL",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        /// Results files written while a run goes (calls.csv, the mock's ledger), off the event loops.
        .target(name: "WasimResults", dependencies: [.product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        /// YAML files read with every error located by file, line and path (scenarios, mock configuration).
        .target(name: "WasimYAML", dependencies: [.product(name: "Yams", package: "Yams")]),
        /// The mock of Meta's WhatsApp SIP endpoint (wa.meta.vc).
        .target(name: "MetaMock", dependencies: [
            "SIPCore", "SIPAuth", "SIPTransaction", "SIPTransport", "WasimCerts", "WasimYAML", "WasimMedia", "WasimResults",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        /// Starting a Hummingbird server and waiting until it listens (the Graph API mock, the metrics endpoint).
        .target(name: "WasimHTTP", dependencies: [
            "MetaMock",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        /// Meta's Graph API for calling settings and call permissions, on the mock's state (Hummingbird).
        .target(name: "MetaGraphAPI", dependencies: [
            "MetaMock", "WasimCerts", "WasimHTTP",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        /// Scenario files, the call generator and results.
        .target(name: "LoadEngine", dependencies: [
            "SIPCore", "SIPAuth", "SIPTransaction", "SIPTransport", "MetaMock", "WasimCerts", "WasimYAML", "WasimMedia", "WasimResults",
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        /// Prometheus metrics of runs and of the mock (swift-metrics, swift-prometheus), served over HTTP (Hummingbird).
        .target(name: "WasimMetrics", dependencies: [
            "LoadEngine", "MetaMock", "WasimHTTP",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        /// The `wasim` command line.
        .executableTarget(name: "WasimCLI", dependencies: [
            "LoadEngine", "MetaMock", "MetaGraphAPI", "WasimMetrics", "WasimCerts", "SIPCore", "WasimYAML",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        /// `swift run -c release sipcore-bench`: per-message cost of parsing, validating and serializing.
        .executableTarget(name: "sipcore-bench", dependencies: ["SIPCore", "SIPAuth", .product(name: "NIOCore", package: "swift-nio")],
                          path: "Benchmarks/SIPCoreBenchmarks"),
        /// `swift run -c release media-bench`: SRTP cost per packet and concurrent full-media calls.
        .executableTarget(name: "media-bench", dependencies: [
            "WasimMedia", "WasimCerts",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], path: "Benchmarks/MediaBenchmarks"),
        // Fuzzing: `bash scripts/fuzz.sh TARGET SECONDS` builds it with libFuzzer; a plain build replays files.
        .executableTarget(name: "wasim-fuzz", dependencies: [
            "SIPCore", "SIPAuth", "WasimMedia", "MetaMock", "LoadEngine", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Fuzz/WasimFuzz"),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SIPAuthTests", dependencies: ["SIPAuth"]),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction"]),
        .testTarget(name: "WasimMediaTests", dependencies: [
            "WasimMedia", "CSRTP", "WasimCerts",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .testTarget(name: "MetaMockTests", dependencies: ["MetaMock", "SIPAuth", "SIPCore", "SIPTransport", "WasimYAML"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "SIPTransport", "MetaMock", "MetaGraphAPI", "WasimMetrics", "LoadEngine", "WasimCerts", "SIPAuth", "WasimYAML", "WasimCLI",
            .product(name: "Yams", package: "Yams"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], resources: [.copy("SIPp")]),
    ],
    swiftLanguageModes: [.v6]
)
