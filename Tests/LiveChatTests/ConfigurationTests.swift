import Foundation
import XCTest

@testable import LiveChat

final class ConfigurationTests: ClientTestCase {
    func testPlainHTTPToARemoteHostIsRefusedBeforeAnyRequest() async throws {
        let client = makeClient(url: "http://api.livechatinc.com")
        let error = await expectError { try await client.ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .configuration)
        XCTAssertEqual(error?.retryable, false)
        XCTAssertTrue(error?.message.contains("refusing plain http://") ?? false, error?.message ?? "")
    }

    func testPlainHTTPIsAllowedForLoopbackHostsOnly() throws {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "[::1]", "::1"] {
            XCTAssertTrue(LiveChatConfiguration.isLoopback(host: host), host)
        }
        for host in ["128.0.0.1", "10.0.0.1", "example.com", "127.0.0.1.example.com", "localhost.example.com", "::2", "1.127.0.0.1"] {
            XCTAssertFalse(LiveChatConfiguration.isLoopback(host: host), host)
        }
        XCTAssertEqual(try LiveChatConfiguration(apiURL: "http://localhost:8080/", login: "a", apiKey: "k").validatedBaseURL(),
                       "http://localhost:8080")
        XCTAssertEqual(try LiveChatConfiguration(apiURL: "http://[::1]:8080/v2", login: "a", apiKey: "k").validatedBaseURL(),
                       "http://[::1]:8080/v2")
        XCTAssertThrowsError(try LiveChatConfiguration(apiURL: "http://10.0.0.1", login: "a", apiKey: "k").validatedBaseURL())
    }

    func testPlainHTTPToARemoteHostIsAllowedWhenOptedIn() throws {
        let configuration = LiveChatConfiguration(apiURL: "http://10.0.0.1:8080", login: "a", apiKey: "k", allowInsecureHTTP: true)
        XCTAssertEqual(try configuration.validatedBaseURL(), "http://10.0.0.1:8080")
    }

    func testDefaultsPointAtTheProductionAPIOverHTTPS() throws {
        let configuration = LiveChatConfiguration(login: "a", apiKey: "k")
        XCTAssertEqual(configuration.apiURL, "https://api.livechatinc.com")
        XCTAssertEqual(try configuration.validatedBaseURL(), "https://api.livechatinc.com")
        XCTAssertFalse(configuration.allowInsecureHTTP)
    }

    func testInvalidURLsAreConfigurationErrors() async throws {
        for url in ["not a url", "ftp://example.com", "https://", "https://example.com/?x=1", "https://user:pw@example.com"] {
            let client = makeClient(url: url)
            let error = await expectError { try await client.listTickets() }
            XCTAssertEqual(error?.kind, .configuration, url)
        }
    }

}
