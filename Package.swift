// swift-tools-version:6.0
import PackageDescription

// Start-up time. A concrete generic type such as `[String: LuaValue]` is by default looked up at
// run time by its mangled name, and each lookup checks the key's `Hashable` conformance by
// scanning every conformance record of this large binary (about half a millisecond each).
// With direct metadata accessors the compiler passes the conformance itself.
let directMetadata: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])
]

let package = Package(
    name: "livechat-lua",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "livechat-lua", targets: ["livechat-lua"]),
        .library(name: "LuaHost", targets: ["LuaHost"]),
        .library(name: "LiveChat", targets: ["LiveChat"]),
        .library(name: "LiveChatSandbox", targets: ["LiveChatSandbox"]),
        .library(name: "BulkCreation", targets: ["BulkCreation"]),
        .library(name: "LiveChatLua", targets: ["LiveChatLua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // Debian's liblua5.4-dev, found through pkg-config.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // Debian's libedit-dev (BSD licence), for the prompt's line editing.
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The only place where longjmp, yields and finalisers meet: all Lua API calls that can
        // raise go through here.
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(name: "LuaHost", dependencies: ["CLuaShim"], swiftSettings: directMetadata),
        .target(
            name: "LiveChat",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                // The transport: AsyncHTTPClient's pool, proxies and TLS. The NIO modules are
                // named for the errors the retry policy classifies (whether the request can have
                // been sent) and the trust roots.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ]
        ),
        .target(
            name: "LiveChatSandbox",
            dependencies: [
                // Only for the one JSONValue type; the sandbox uses nothing else of the client.
                "LiveChat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The bulk engine, no Lua: rows in, tickets out through the client's public API, exactly
        // once. Its pure heart: the row state machine and the reconciliation rule.
        .target(name: "BulkCreation", dependencies: ["LiveChat"]),
        .target(
            name: "LiveChatLua",
            dependencies: [
                "LuaHost", "LiveChat", "BulkCreation",
                // The `csv` Lua module: quoted fields, embedded newlines, a BOM, other delimiters.
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: directMetadata
        ),
        .executableTarget(
            name: "livechat-lua",
            dependencies: [
                "LuaHost", "LiveChatLua", "LiveChat", "BulkCreation", "LiveChatSandbox", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: directMetadata,
            // Start-up time, the ratio scripts/bench-bridge measures:
            // - a position-dependent executable: as a PIE, the loader first applied ~130,000
            //   relative relocations (the Swift metadata's absolute pointers), writing to every
            //   page that holds one; linked at a fixed address there are none (-1.6 ms);
            // - the static standard library asks for every symbol to be exported, and the
            //   runtime's start-up looks an address up in that table with a linear search, so
            //   only what must be is exported (-1 ms).
            // The shared libraries (liblua5.4 among them, so C modules load) are still mapped at
            // random addresses.
            linkerSettings: [.unsafeFlags([
                "-use-ld=lld", "-Xclang-linker", "-no-pie", "-Xlinker", "--no-export-dynamic",
            ])]
        ),
        // Benchmarks, run by scripts/bench-*.
        .executableTarget(name: "bench-bridge", dependencies: ["LuaHost"], path: "Benchmarks/BridgeBenchmark"),
        // Test helpers shared by test targets: a CONNECT proxy and a CA made with openssl.
        .target(name: "TestProxy", path: "Tests/TestProxy"),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLuaShim"]),
        .testTarget(
            name: "LiveChatTests",
            dependencies: [
                "LiveChat", "TestProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LiveChatSandboxTests",
            dependencies: [
                "LiveChatSandbox", "LiveChat",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(name: "BulkCreationTests", dependencies: ["BulkCreation", "LiveChat"]),
        .testTarget(name: "LiveChatLuaTests", dependencies: ["LiveChatLua", "BulkCreation", "LiveChatSandbox", "LiveChat", "LuaHost"]),
        .testTarget(name: "CLITests", dependencies: ["LiveChatSandbox", "TestProxy"]),
    ],
    swiftLanguageModes: [.v5]
)
