import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a failed HTTP exchange means: the `LiveChatError` a caller sees, and the
/// `RetryPolicy.Failure` that decides about a retry.
enum TransportFailure {
    /// The attempt's time ran out before the complete answer arrived.
    struct AttemptTimedOut: Error {}

    /// The answer's body is over `maxResponseBytes`.
    struct ResponseTooLarge: Error {}

    /// The error a failed exchange stands for, and how the retry policy should see it: whether
    /// the request can have reached the server decides whether a create may be sent again.
    static func classify(
        _ error: Error, host: String, configuration: LiveChatConfiguration
    ) -> (LiveChatError, RetryPolicy.Failure?) {
        func make(_ kind: LiveChatError.Kind, _ failure: RetryPolicy.Failure?, _ message: String) -> (LiveChatError, RetryPolicy.Failure?) {
            (LiveChatError(kind: kind, message: message), failure)
        }
        switch error {
        case is AttemptTimedOut:
            return make(.timeout, .requestTimeout, "no complete answer within \(configuration.requestTimeout)")
        case is ResponseTooLarge:
            return make(.protocol, nil, "the response body is larger than the limit of \(configuration.maxResponseBytes) bytes")
        case is CancellationError:
            return (LiveChatError.cancelled(attempts: 1), nil)
        case let error as NIOConnectionError:
            let cause = error.connectionErrors.first.map { describe(ioError: $0.error) }
                ?? error.dnsAError.map { "\($0)" } ?? error.dnsAAAAError.map { "\($0)" } ?? "unknown cause"
            return make(.network, .connectionNotEstablished, "could not connect to \(host): \(cause)")
        case let error as ChannelError:
            switch error {
            case .connectTimeout:
                return make(.timeout, .connectionNotEstablished, "could not connect to \(host) within \(configuration.connectTimeout)")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return make(.network, .connectionLost, "the connection to \(host) was closed before the answer was complete")
            default:
                return make(.network, .connectionLost, "the connection to \(host) failed: \(error)")
            }
        case let error as IOError where [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode):
            return make(.network, .connectionNotEstablished, "could not connect to \(host): \(describe(ioError: error))")
        case let error as IOError:
            return make(.network, .connectionLost, "the connection to \(host) failed: \(describe(ioError: error))")
        case let error as HTTPParserError:
            return make(.protocol, nil, "the answer is not valid HTTP: \(error)")
        case let error as HTTPClientError:
            return classify(error, host: host, configuration: configuration)
        default:
            // TLS failures (NIOSSL's types, not a dependency here): retrying cannot fix a certificate.
            if String(reflecting: type(of: error)).contains("NIOSSL") {
                return make(.network, nil, "TLS with \(host) failed: \(error)")
            }
            return make(.network, .connectionLost, "the exchange with \(host) failed: \(error)")
        }
    }

    private static func classify(
        _ error: HTTPClientError, host: String, configuration: LiveChatConfiguration
    ) -> (LiveChatError, RetryPolicy.Failure?) {
        func make(_ kind: LiveChatError.Kind, _ failure: RetryPolicy.Failure?, _ message: String) -> (LiveChatError, RetryPolicy.Failure?) {
            (LiveChatError(kind: kind, message: message), failure)
        }
        switch error {
        case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
            return make(.timeout, .connectionNotEstablished, "could not connect to \(host) within \(configuration.connectTimeout)")
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return make(.timeout, .requestTimeout, "no complete answer within \(configuration.requestTimeout)")
        case .remoteConnectionClosed:
            return make(.network, .connectionLost, "the connection to \(host) was closed before the answer was complete")
        case .cancelled:
            return (LiveChatError.cancelled(attempts: 1), nil)
        case .alreadyShutdown:
            return make(.configuration, nil, "the client has been shut down")
        case .invalidURL, .emptyHost, .emptyScheme:
            return make(.configuration, nil, "invalid request URL: \(error)")
        case .redirectLimitReached, .redirectCycleDetected:
            return make(.protocol, nil, "unexpected redirect: \(error)")
        default:
            return make(.protocol, nil, "the exchange with \(host) failed: \(error)")
        }
    }

    /// The system's wording of an I/O error ("Connection refused"), not NIO's call-site detail.
    private static func describe(ioError error: Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

}
