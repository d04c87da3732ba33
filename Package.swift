// swift-tools-version:6.0
import PackageDescription

/// Settings every target shares: Swift 6 language mode (strict concurrency) comes with the tools version.
/// MemberImportVisibility and InternalImportsByDefault make every module state what it imports (and what it
/// re-exports with `public import`), so an import the module table of DESIGN.md does not allow fails to build.
let shared: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "mailtriage",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mailtriage", targets: ["mailtriage"]),
        .executable(name: "mailtriage-bench", targets: ["mailtriage-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CStemmer", providers: [.apt(["libstemmer-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CPrefetch"),
        .target(name: "TriageMIME", swiftSettings: shared),
        // Optimised in debug builds too: the daemon trains its models at start-up when none is saved, and an
        // unoptimised trainer takes a minute where the optimised one takes seconds (tests start it often).
        .target(name: "TriageCore", dependencies: ["TriageMIME", "CStemmer", "CPCRE2", "CPrefetch"],
                swiftSettings: shared + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(
            name: "TriageMail",
            dependencies: ["CCurl", "CCrypto", "TriageCore", "TriageMIME", .product(name: "Logging", package: "swift-log")],
            swiftSettings: shared),
        .target(
            name: "TriageStore",
            dependencies: ["TriageCore", "TriageMIME", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: shared),
        .target(
            name: "TriageFiles",
            dependencies: ["TriageCore", "TriageMIME", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: shared),
        .target(
            name: "TriageDaemon",
            dependencies: [
                "TriageCore", "TriageMIME", "TriageMail", "TriageStore", "TriageFiles", "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: shared),
        .target(name: "TriageTesting", dependencies: ["TriageCore"], swiftSettings: shared),
        .executableTarget(
            name: "mailtriage",
            dependencies: [
                "TriageCore", "TriageMIME", "TriageMail", "TriageStore", "TriageFiles", "TriageDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: shared),
        .executableTarget(
            name: "mailtriage-bench",
            dependencies: [
                "TriageCore", "TriageMIME", "TriageMail", "TriageStore", "TriageFiles", "TriageDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/mailtriage-bench",
            swiftSettings: shared),
        // libFuzzer targets for the configuration and knowledge-base parsers: built with the fuzzer only by `make fuzz`.
        .executableTarget(
            name: "mailtriage-fuzz",
            dependencies: ["TriageCore", "TriageFiles"],
            path: "Fuzz/Files",
            swiftSettings: shared),
        .testTarget(name: "TriageMIMETests", dependencies: ["TriageMIME", "TriageCore"], swiftSettings: shared),
        .testTarget(name: "TriageCoreTests", dependencies: ["TriageCore", "TriageTesting"], swiftSettings: shared),
        .testTarget(name: "TriageMailTests", dependencies: ["TriageMail"], swiftSettings: shared),
        .testTarget(name: "TriageStoreTests", dependencies: ["TriageStore", "TriageTesting"], swiftSettings: shared),
        .testTarget(
            name: "TriageDaemonTests",
            dependencies: ["TriageDaemon", "TriageFiles", "TriageStore", "TriageTesting", "TriageCore", "TriageMIME",
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")],
            swiftSettings: shared),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TriageMail", "TriageStore", "TriageDaemon", "TriageCore", "TriageMIME", "TriageTesting",
                           .product(name: "GRDB", package: "GRDB.swift")],
            exclude: [],
            swiftSettings: shared),
    ]
)
