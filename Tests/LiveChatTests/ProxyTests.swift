import Foundation
import TestProxy
import XCTest

@testable import LiveChat

/// Through a proxy as a corporate network has one: a `CONNECT` tunnel with Basic credentials,
/// chosen from the environment as curl chooses, bypassed for `no_proxy` hosts, and its password
/// never shown.
final class ProxyTests: ClientTestCase {
    static let proxyCredentials = "proxyuser:pr0xy-s3cret"

    private func startProxy(credentials: String? = ProxyTests.proxyCredentials) throws -> ConnectProxy {
        let proxy = try ConnectProxy(credentials: credentials)
        addTeardownBlock { proxy.stop() }
        return proxy
    }

    private func client(url: String, proxy: LiveChatProxy?) -> LiveChatClient {
        var configuration = LiveChatConfiguration(
            apiURL: url, login: Self.login, apiKey: Self.apiKey, allowInsecureHTTP: true,
            connectTimeout: .seconds(2), requestTimeout: .seconds(5), retryPolicy: Self.fastRetries)
        configuration.proxy = proxy
        let client = LiveChatClient(configuration: configuration)
        addTeardownBlock { try await client.shutdown() }
        return client
    }

    func testPlainHTTPGoesThroughTheProxysTunnelWithItsCredentials() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket))
        let proxy = try startProxy()
        // `api.test` does not resolve here: only the proxy (which reaches every name at
        // 127.0.0.1) can get there, so an answer proves the request went through it.
        let client = client(url: "http://api.test:\(server.port)", proxy: try LiveChatProxy(url: proxy.url(credentials: Self.proxyCredentials)))
        let ticket = try await client.ticket(id: "ABCDE")
        XCTAssertFalse(ticket.id.isEmpty)
        XCTAssertEqual(proxy.tunnels.map(\.target), ["api.test:\(server.port)"])
        XCTAssertEqual(proxy.tunnels.first?.headers["proxy-authorization"],
                       "Basic " + Data(Self.proxyCredentials.utf8).base64EncodedString())
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertNil(request.header("Proxy-Authorization"), "the proxy's credentials go to the proxy alone")
        XCTAssertEqual(request.header("Authorization"), "Basic " + Data("\(Self.login):\(Self.apiKey)".utf8).base64EncodedString())
    }

    func testAProxyThatRefusesTheCredentialsIsSaidWithoutThemAndNothingIsSent() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket))
        let proxy = try startProxy()
        let wrong = "proxyuser:wr0ng-s3cret"
        let client = client(url: "http://api.test:\(server.port)", proxy: try LiveChatProxy(url: proxy.url(credentials: wrong)))
        let error = await expectError { try await client.createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@example.com")) }
        XCTAssertEqual(error?.message, "the proxy at 127.0.0.1:\(proxy.port) refused the credentials in the proxy URL")
        XCTAssertEqual(error?.attempts, 1, "retrying cannot fix credentials")
        XCTAssertEqual(server.requests.count, 0)
        let shown = "\(String(describing: error)) \(client) \(client.configuration)"
        XCTAssertFalse(shown.contains("wr0ng-s3cret"), shown)
        XCTAssertFalse(shown.contains(Data(wrong.utf8).base64EncodedString()), shown)
        XCTAssertTrue("\(client.configuration)".contains("proxy: http://proxyuser:***@127.0.0.1:\(proxy.port)"), "\(client.configuration)")
    }

    func testAProxyThatWantsCredentialsSaysHowToGiveThem() async throws {
        let proxy = try startProxy()
        let client = client(url: "http://api.test:9", proxy: try LiveChatProxy(url: proxy.url()))
        let error = await expectError { try await client.ticket(id: "ABCDE") }
        XCTAssertEqual(error?.message, "the proxy at 127.0.0.1:\(proxy.port) asks for credentials: give them in the proxy URL (http://USER:PASSWORD@127.0.0.1:\(proxy.port))")
    }

    func testACreateIsRetriedWhenTheProxyCannotBeReached() async throws {
        // Nothing listens at the proxy's address: the request never left, so even a create is
        // sent again (and fails the same way each time).
        let port = try await TestServer.unusedPort()
        let counted = LiveChatClient(
            configuration: {
                var configuration = LiveChatConfiguration(
                    apiURL: "http://api.test:9", login: Self.login, apiKey: Self.apiKey, allowInsecureHTTP: true,
                    connectTimeout: .seconds(2), requestTimeout: .seconds(5), retryPolicy: Self.fastRetries)
                configuration.proxy = LiveChatProxy(host: "127.0.0.1", port: port)
                return configuration
            }())
        addTeardownBlock { try await counted.shutdown() }
        let error = await expectError { try await counted.createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@example.com")) }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.attempts, 3, "\(String(describing: error))")
        XCTAssertEqual(error?.message, "could not connect to the proxy at 127.0.0.1:\(port) (for api.test:9): connection refused")
    }

    // MARK: - Which proxy, from the environment

    func testTheEnvironmentIsReadAsCurlReadsIt() throws {
        func chosen(_ environment: [String: String], _ url: String = "https://api.livechatinc.com",
                    explicit: String? = nil) throws -> String? {
            try LiveChatProxy.select(explicit: explicit.map { ($0, "--proxy") }, environment: environment, apiURL: url)
                .map { "\($0.proxy.address) from \($0.origin)" }
        }
        XCTAssertEqual(try chosen(["HTTPS_PROXY": "http://p1:3128"]), "p1:3128 from HTTPS_PROXY")
        XCTAssertEqual(try chosen(["https_proxy": "p2:8080", "HTTPS_PROXY": "http://p1:3128"]), "p2:8080 from https_proxy")
        XCTAssertEqual(try chosen(["http_proxy": "http://p3"], "http://api.example.com"), "p3:1080 from http_proxy", "curl's default port")
        XCTAssertNil(try chosen(["http_proxy": "http://p3"]), "http_proxy is not for https")
        XCTAssertEqual(try chosen(["ALL_PROXY": "http://p4:1"]), "p4:1 from ALL_PROXY")
        XCTAssertEqual(try chosen(["HTTPS_PROXY": "http://p1:3128"], explicit: "http://p5:2"), "p5:2 from --proxy")
        XCTAssertNil(try chosen(["HTTPS_PROXY": "http://p1:3128"], explicit: ""), "an empty --proxy means none")
        XCTAssertNil(try chosen(["HTTPS_PROXY": "http://p1:3128"], "http://127.0.0.1:8080/v2"), "loopback is reached directly")
        XCTAssertEqual(try chosen([:], "http://127.0.0.1:8080/v2", explicit: "http://p5:2"), "p5:2 from --proxy", "unless asked for")
        XCTAssertNil(try chosen(["HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "example.org, livechatinc.com"]))
        XCTAssertNil(try chosen(["HTTPS_PROXY": "http://p1:3128", "no_proxy": "*"]))
        XCTAssertNil(try chosen(["HTTPS_PROXY": "http://p1:3128", "no_proxy": ".livechatinc.com"]))
        XCTAssertEqual(try chosen(["HTTPS_PROXY": "http://p1:3128", "no_proxy": "chatinc.com,api.livechatinc.co"]),
                       "p1:3128 from HTTPS_PROXY", "a suffix counts only at a dot")
        XCTAssertThrowsError(try chosen(["HTTPS_PROXY": "https://p1:3128"])) { error in
            XCTAssertEqual((error as? LiveChatError)?.message, "HTTPS_PROXY: a proxy reached over https is not supported; use http://p1…")
        }
        XCTAssertThrowsError(try chosen(["HTTPS_PROXY": "http://u:s3cret-pw@p1:99999"])) { error in
            XCTAssertEqual((error as? LiveChatError)?.message, "HTTPS_PROXY: the port must be from 1 to 65535, got 99999")
        }
    }

    func testProxyCredentialsArePercentDecodedAndMaskedInDescriptions() throws {
        let proxy = try LiveChatProxy(url: "http://me%40corp:p%3Ass-w0rd@proxy.corp:3128")
        XCTAssertEqual(proxy.username, "me@corp")
        XCTAssertEqual(proxy.password, "p:ss-w0rd")
        XCTAssertEqual("\(proxy)", "http://me@corp:***@proxy.corp:3128")
        XCTAssertEqual(proxy.secrets, ["p:ss-w0rd", Data("me@corp:p:ss-w0rd".utf8).base64EncodedString()])
        XCTAssertThrowsError(try LiveChatProxy(url: "http://u:s3cret-pw@[bad")) { error in
            XCTAssertFalse("\(error)".contains("s3cret-pw"), "\(error)")
        }
    }
}
