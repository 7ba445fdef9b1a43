import Foundation
import NIOSSL

/// Certificates trusted as roots besides the system's, read from PEM files or folders of them
/// when the client is made, so that a bad path is said at once and in words.
enum TrustRoots {
    /// The certificates of every path: a file holds one or more PEM certificates; in a folder,
    /// every `.pem`, `.crt` or `.cer` file, and OpenSSL's hashed names (`5ed36f99.0`), are read.
    static func load(_ paths: [String]) throws -> [NIOSSLCertificate] {
        var certificates: [NIOSSLCertificate] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw problem(path, "no such file")
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                for name in names.sorted() where isCertificateName(name) {
                    let file = (path as NSString).appendingPathComponent(name)
                    // A folder of the system's may hold other files: only certificates count.
                    certificates += (try? NIOSSLCertificate.fromPEMFile(file)) ?? []
                }
            } else {
                guard FileManager.default.isReadableFile(atPath: path) else { throw problem(path, "it cannot be read") }
                let found: [NIOSSLCertificate]
                do {
                    found = try NIOSSLCertificate.fromPEMFile(path)
                } catch {
                    throw problem(path, "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
                }
                guard !found.isEmpty else { throw problem(path, "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)") }
                certificates += found
            }
        }
        return certificates
    }

    private static func isCertificateName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if [".pem", ".crt", ".cer"].contains(where: lower.hasSuffix) { return true }
        // OpenSSL's c_rehash names: eight hex digits, a dot, a number.
        let parts = lower.split(separator: ".")
        return parts.count == 2 && parts[0].count == 8 && parts[0].allSatisfy(\.isHexDigit) && parts[1].allSatisfy(\.isNumber)
    }

    private static func problem(_ path: String, _ reason: String) -> LiveChatError {
        LiveChatError(kind: .configuration, message: "cannot trust the certificates in \(path): \(reason)")
    }
}
