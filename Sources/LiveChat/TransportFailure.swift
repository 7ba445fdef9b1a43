import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What a failed HTTP exchange means: the `LiveChatError` a caller sees, and the
/// `RetryPolicy.Failure` that decides about a retry.
enum TransportFailure {
    /// The attempt's time ran out before the complete answer arrived; `sent` tells whether the
    /// request had been written (or was still waiting for a connection).
    struct AttemptTimedOut: Error {
        var sent = true
    }

    /// The connection was found closed before any byte of the request was written.
    struct ClosedBeforeSending: Error {}

    /// The client has been shut down.
    struct ShutDown: Error {}

    /// The connection ended before it was ready to carry a request (during the TLS handshake).
    struct NotEstablished: Error {
        var cause: Error
    }

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
        case let error as AttemptTimedOut where error.sent:
            return make(.timeout, .requestTimeout, "no complete answer within \(configuration.requestTimeout)")
        case is AttemptTimedOut:
            return make(.timeout, .connectionNotEstablished,
                        "could not get a connection to \(host) within \(configuration.requestTimeout)")
        case is ClosedBeforeSending:
            return make(.network, .connectionNotEstablished, "the connections to \(host) kept closing before the request was sent")
        case is ShutDown:
            return make(.configuration, nil, "the client has been shut down")
        case let error as NotEstablished:
            let cause = (error.cause as? IOError).map { describe(ioError: $0) } ?? "the connection was closed"
            return make(.network, .connectionNotEstablished, "could not connect to \(host): \(cause)")
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
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            // Retrying cannot fix a certificate.
            return make(.network, nil, "TLS with \(host) failed: \(error)")
        default:
            return make(.network, .connectionLost, "the exchange with \(host) failed: \(error)")
        }
    }

    /// The system's wording of an I/O error ("Connection refused"), not NIO's call-site detail.
    private static func describe(ioError error: Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

}
