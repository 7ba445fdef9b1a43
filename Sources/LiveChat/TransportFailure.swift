import AsyncHTTPClient
import Foundation
import NIOHTTPCompression
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What a failed HTTP exchange means: the `LiveChatError` a caller sees, and the
/// `RetryPolicy.Failure` that decides about a retry.
enum TransportFailure {
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
        case let error as HTTPClientError:
            return classify(error, host: host, configuration: configuration)
        case is ResponseTooLarge:
            return make(.protocol, nil, "the response body is larger than the limit of \(configuration.maxResponseBytes) bytes")
        case is CancellationError:
            return (LiveChatError.cancelled(attempts: 1), nil)
        case let error as NIOConnectionError:
            let cause = error.connectionErrors.first.map { describe(ioError: $0.error) }
                ?? ((error.dnsAError ?? error.dnsAAAAError) != nil
                    ? "no address found for the name (check the host in the API URL, and the network's DNS)"
                    : "no address to connect to")
            return make(.network, .connectionNotEstablished, "could not connect to \(place(host, configuration)): \(cause)")
        case let error as ChannelError:
            switch error {
            case .connectTimeout:
                return make(.timeout, .connectionNotEstablished,
                            "could not connect to \(place(host, configuration)) within \(configuration.connectTimeout)")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return make(.network, .connectionLost, "the connection to \(host) was closed before the answer was complete")
            default:
                return make(.network, .connectionLost, "the connection to \(host) failed: \(error)")
            }
        case let error as IOError where [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode):
            return make(.network, .connectionNotEstablished, "could not connect to \(place(host, configuration)): \(describe(ioError: error))")
        case let error as IOError:
            return make(.network, .connectionLost, "the connection to \(host) failed: \(describe(ioError: error))")
        case is HTTPParserError:
            return make(.protocol, nil, "the answer from \(host) is not valid HTTP")
        case _ where isTLS(error):
            // The handshake comes before the request: nothing was sent. Retrying cannot fix a
            // certificate.
            return make(.network, nil, describe(tlsError: error, host: host))
        case is SocketAddressError, is SocketAddressError.UnknownHost:
            return make(.network, .connectionNotEstablished, "could not connect to \(place(host, configuration)): no address found for the name (check the host in the API URL, and the network's DNS)")
        case is NIOHTTPDecompression.DecompressionError:
            return make(.protocol, nil, "the compressed answer from \(host) could not be decompressed (or is larger than the limit of \(configuration.maxResponseBytes) bytes)")
        default:
            return make(.network, .connectionLost, "the exchange with \(host) failed")
        }
    }

    /// AsyncHTTPClient's own errors. Those that come before a connection is ready (connect,
    /// proxy and TLS handshakes) prove the request was never sent; a connection closed or a
    /// deadline passed after that leaves it in doubt.
    private static func classify(
        _ error: HTTPClientError, host: String, configuration: LiveChatConfiguration
    ) -> (LiveChatError, RetryPolicy.Failure?) {
        func make(_ kind: LiveChatError.Kind, _ failure: RetryPolicy.Failure?, _ message: String) -> (LiveChatError, RetryPolicy.Failure?) {
            (LiveChatError(kind: kind, message: message), failure)
        }
        let proxy = configuration.proxy.map { "the proxy at \($0.address)" } ?? "the proxy"
        switch error {
        case .connectTimeout:
            return make(.timeout, .connectionNotEstablished,
                        "could not connect to \(place(host, configuration)) within \(min(configuration.connectTimeout, configuration.requestTimeout))")
        case .tlsHandshakeTimeout:
            return make(.timeout, .connectionNotEstablished, "the TLS handshake with \(host) did not finish in time")
        case .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
            return make(.timeout, .connectionNotEstablished, "\(proxy) did not open a tunnel to \(host) in time")
        case .proxyAuthenticationRequired:
            return make(.network, nil, configuration.proxy?.password == nil
                ? "\(proxy) asks for credentials: give them in the proxy URL (http://USER:PASSWORD@\(configuration.proxy?.address ?? "host:port"))"
                : "\(proxy) refused the credentials in the proxy URL")
        case .invalidProxyResponse:
            return make(.network, .connectionNotEstablished, "\(proxy) refused to open a tunnel to \(host)")
        case .remoteConnectionClosed, .uncleanShutdown:
            return make(.network, .connectionLost, "the connection to \(host) was closed before the answer was complete")
        case .readTimeout, .deadlineExceeded:
            return make(.timeout, .requestTimeout, "no complete answer within \(configuration.requestTimeout)")
        case .getConnectionFromPoolTimeout:
            return make(.timeout, .connectionNotEstablished, "could not get a connection to \(host) within \(configuration.requestTimeout)")
        case .cancelled:
            return (LiveChatError.cancelled(attempts: 1), nil)
        case .alreadyShutdown:
            return make(.configuration, nil, "the client has been shut down")
        case .httpEndReceivedAfterHeadWith1xx, .contentLengthMissing, .bodyLengthMismatch:
            return make(.protocol, nil, "the answer from \(host) is not valid HTTP")
        default:
            return make(.network, .connectionLost, "the exchange with \(host) failed: \(error)")
        }
    }

    /// The server, or the proxy when there is one: connect errors are about the first hop.
    private static func place(_ host: String, _ configuration: LiveChatConfiguration) -> String {
        configuration.proxy.map { "the proxy at \($0.address) (for \(host))" } ?? host
    }

    /// Whether an error comes from TLS (the handshake, the certificate, the records).
    static func isTLS(_ error: Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }

    /// A TLS failure in a user's words: what happened and what to do. BoringSSL names its
    /// reasons in capitals inside the error's text (`WRONG_VERSION_NUMBER`); they are matched
    /// there, since the error types carry them only as strings.
    static func describe(tlsError error: Error, host: String) -> String {
        let text = String(describing: error)
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the certificate of \(host) is for another name: the API URL's host must match the name the server's certificate was made for"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "the server at \(host) does not speak TLS: use http:// for it, or the port where it speaks https"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            if text.contains("hostname") || text.contains("HOSTNAME") {
                return "the certificate of \(host) is for another name: the API URL's host must match the name the server's certificate was made for"
            }
            return "the certificate of \(host) is not trusted: it is self-signed, expired, or signed by an authority this system does not trust"
        }
        if text.contains("unexpectedEOF") || text.contains("uncleanShutdown") {
            return "the server at \(host) closed the connection during the TLS handshake"
        }
        return "the TLS handshake with \(host) failed: the server and this client could not agree on a secure connection"
    }

    /// The system's wording of an I/O error ("Connection refused"), not NIO's call-site detail.
    private static func describe(ioError error: Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if error is SocketAddressError.UnknownHost { return "no address found for the name (check the host in the API URL, and the network's DNS)" }
        if isTLS(error) { return "the TLS handshake failed" }
        return "the connection failed"
    }
}
