// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The programs allocate through gperftools' tcmalloc (Debian `libtcmalloc-minimal4`, installed by scripts/install)
/// instead of glibc's malloc: a sync allocates and frees small objects on four threads at once (fetch, parse,
/// store, spool), and glibc's arenas cost it about a tenth of its CPU. Linked by file name because only the runtime
/// package is needed (the unversioned `libtcmalloc_minimal.so` comes with the much larger development package).
let tcmalloc: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "-l:libtcmalloc_minimal.so.4"], .when(platforms: [.linux]))
]

let package = Package(
    name: "Ticketgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ticketgate", targets: ["ticketgate"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(name: "CSQLiteConfig"),
        .target(name: "MailFormat", swiftSettings: strict),
        .target(name: "MailTransport", dependencies: ["CCurl", "MailFormat"], swiftSettings: strict),
        .target(name: "ServiceDesk", dependencies: ["MailFormat"], swiftSettings: strict),
        .target(
            name: "TicketStoreSQLite",
            dependencies: [
                "ServiceDesk", "CSQLiteConfig", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "MailFormat", "MailTransport", "ServiceDesk", "TicketStoreSQLite",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ticketgate",
            dependencies: [
                "Gateway", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            linkerSettings: tcmalloc
        ),
        .executableTarget(
            name: "TicketgateBench",
            dependencies: ["Gateway", "MailFormat", "MailTransport", "ServiceDesk", "TicketStoreSQLite"],
            swiftSettings: strict,
            linkerSettings: tcmalloc
        ),
        .testTarget(
            name: "MailFormatTests",
            dependencies: ["MailFormat"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServiceDeskTests",
            dependencies: ["ServiceDesk", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict),
        .testTarget(name: "TicketStoreSQLiteTests", dependencies: ["TicketStoreSQLite"], swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["MailTransport"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "MailTransportTests", dependencies: ["MailTransport", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "GatewayTests", dependencies: ["Gateway", "TestSupport", "TicketStoreSQLite"], exclude: ["Golden"],
            swiftSettings: strict),
    ]
)
