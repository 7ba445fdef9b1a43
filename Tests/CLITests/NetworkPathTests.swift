import Foundation
import LiveChatSandbox
import TestProxy
import XCTest

/// The built binary on a corporate network's path: the sandbox behind TLS (socat, with a
/// certificate from the test's own CA) and reached through a CONNECT proxy named by the
/// environment, the config file or `--proxy`. `api.test` resolves nowhere: only the proxy
/// reaches it (at 127.0.0.1).
final class NetworkPathTests: XCTestCase {
    static let proxyCredentials = "proxyuser:pr0xy-s3cret"

    var sandbox: SandboxServer!
    var sandboxURL: URL!
    var certificates: TestCertificates!
    var tlsFront: Process!
    var tlsPort = 0
    var proxy: ConnectProxy!
    var home: URL!

    override func setUpWithError() throws {
        let sandbox = SandboxServer(configuration: { var c = SandboxConfiguration(); c.seedTickets = 3; return c }())
        self.sandbox = sandbox
        sandboxURL = LuaScriptTests.blocking { try await sandbox.start() }
        certificates = try TestCertificates(names: ["api.test"])
        tlsPort = LuaScriptTests.closedPort()
        let front = Process()
        front.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        front.arguments = ["socat",
                           "OPENSSL-LISTEN:\(tlsPort),bind=127.0.0.1,reuseaddr,fork,verify=0,cert=\(certificates.serverCertificate),key=\(certificates.serverKey)",
                           "TCP:127.0.0.1:\(sandboxURL.port!)"]
        front.standardError = FileHandle.nullDevice
        try front.run()
        tlsFront = front
        try waitForListener(port: tlsPort)
        proxy = try ConnectProxy(credentials: Self.proxyCredentials)
        home = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-net-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        tlsFront?.terminate()
        tlsFront?.waitUntilExit()
        proxy?.stop()
        if let sandbox { LuaScriptTests.blocking { await sandbox.stop() } }
        certificates?.remove()
        if let home { try? FileManager.default.removeItem(at: home) }
    }

    private func waitForListener(port: Int) throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("socat did not start listening on \(port)")
    }

    /// Runs a request with the environment of a user behind the proxy; the key and login are
    /// the sandbox's.
    private func run(_ environment: [String: String], arguments: [String] = [],
                     script: String = "print(assert(livechat.listTickets{}).total)") throws -> BinaryRun {
        var env = [
            "LIVECHAT_LOGIN": SandboxConfiguration.demoLogin,
            "LIVECHAT_API_KEY": SandboxConfiguration.demoAPIKey,
            "HOME": home.path, "XDG_CONFIG_HOME": home.appendingPathComponent("config").path,
            "https_proxy": "", "http_proxy": "", "all_proxy": "", "no_proxy": "",
            "HTTPS_PROXY": "", "HTTP_PROXY": "", "ALL_PROXY": "", "NO_PROXY": "",
            "SSL_CERT_FILE": "", "SSL_CERT_DIR": "",
        ]
        for (name, value) in environment { env[name] = value }
        return try BuiltBinary.run(arguments + ["-e", script], environment: env, timeout: 30)
    }

    /// The sandbox's tickets, asked directly.
    private func ticketCount() throws -> Int? {
        Int(try run(["LIVECHAT_API_URL": "\(sandboxURL!)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private var behindTheProxy: [String: String] {
        ["HTTPS_PROXY": proxy.url(credentials: Self.proxyCredentials), "LIVECHAT_API_URL": "https://api.test:\(tlsPort)/v2"]
    }

    private func assertNoSecret(_ run: BinaryRun, file: StaticString = #filePath, line: UInt = #line) {
        for secret in ["pr0xy-s3cret", Data(Self.proxyCredentials.utf8).base64EncodedString()] {
            XCTAssertFalse(run.stdout.contains(secret) || run.stderr.contains(secret), "\(run)", file: file, line: line)
        }
    }

    func testHTTPSThroughTheEnvironmentsProxyWithTheCompanyCATrustedBySSLCertFile() throws {
        var environment = behindTheProxy
        environment["SSL_CERT_FILE"] = certificates.caFile
        let result = try run(environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "3\n")
        XCTAssertEqual(proxy.tunnels.map(\.target), ["api.test:\(tlsPort)"])
        assertNoSecret(result)
    }

    func testWithoutTheCompanyCATheCertificateIsRefusedInWords() throws {
        let result = try run(behindTheProxy)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("the certificate of api.test:\(tlsPort) is not trusted"), result.stderr)
        XCTAssertEqual(try ticketCount(), 3)
        assertNoSecret(result)
    }

    func testSSLCertDirTrustsTheCertificatesInTheFolder() throws {
        var environment = behindTheProxy
        environment["SSL_CERT_DIR"] = "/nonexistent-folder:" + certificates.folder
        let result = try run(environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "3\n")
    }

    func testACertificateForAnotherNameIsSaidSo() throws {
        var environment = behindTheProxy
        environment["SSL_CERT_FILE"] = certificates.caFile
        environment["LIVECHAT_API_URL"] = "https://other.test:\(tlsPort)/v2"
        let result = try run(environment)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("the certificate of other.test:\(tlsPort) is for another name"), result.stderr)
    }

    func testNoProxyListsTheHostSoTheProxyIsNotUsed() throws {
        var environment = behindTheProxy
        environment["SSL_CERT_FILE"] = certificates.caFile
        environment["no_proxy"] = "localhost,.test"
        let result = try run(environment)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("could not connect to api.test:\(tlsPort): no address found for the name"), result.stderr)
        XCTAssertEqual(proxy.tunnels.count, 0)
    }

    func testWrongProxyCredentialsAreRefusedWithoutShowingThem() throws {
        var environment = behindTheProxy
        environment["HTTPS_PROXY"] = proxy.url(credentials: "proxyuser:wr0ng-s3cret")
        let result = try run(environment, script: "assert(livechat.createTicket{message = 'Hi', requesterEmail = 'm@example.com'})")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("the proxy at 127.0.0.1:\(proxy.port) refused the credentials in the proxy URL"), result.stderr)
        XCTAssertFalse(result.stderr.contains("wr0ng-s3cret"), result.stderr)
        XCTAssertEqual(try ticketCount(), 3, "nothing was created")
    }

    func testTheConfigFilesProxyAndCAFile() throws {
        let folder = home.appendingPathComponent("config/livechat-lua")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: certificates.caFile, toPath: folder.appendingPathComponent("company-ca.pem").path)
        let config = """
            {"apiUrl": "https://api.test:\(tlsPort)/v2", "proxy": "\(proxy.url(credentials: Self.proxyCredentials))", "caFile": "company-ca.pem"}
            """
        try config.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let result = try run([:])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "3\n")
        XCTAssertEqual(proxy.tunnels.map(\.target), ["api.test:\(tlsPort)"], "a relative caFile is read beside the config file")
    }

    func testTheProxyOptionIsUsedEvenForLoopbackAndCheckedWhereItEnters() throws {
        let direct = "\(sandboxURL!)"
        let result = try run(["LIVECHAT_API_URL": direct], arguments: ["--proxy", proxy.url(credentials: Self.proxyCredentials)])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(proxy.tunnels.map(\.target), ["127.0.0.1:\(sandboxURL.port!)"])
        let environmentOnly = try run(["LIVECHAT_API_URL": direct, "HTTP_PROXY": proxy.url(credentials: Self.proxyCredentials)])
        XCTAssertEqual(environmentOnly.status, 0, environmentOnly.stderr)
        XCTAssertEqual(proxy.tunnels.count, 1, "the environment's proxy is not used for loopback")

        let bad = try run([:], arguments: ["--proxy", "ftp://u:pr0xy-s3cret@p:1"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("'--proxy': unsupported proxy scheme 'ftp' (use http:// or socks5://)"), bad.stderr)
        assertNoSecret(bad)
    }
}
