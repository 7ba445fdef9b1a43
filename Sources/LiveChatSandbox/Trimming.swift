extension StringProtocol {
    /// What `trimmingCharacters(in: .whitespaces)` (or `.whitespacesAndNewlines`) gives, without
    /// Foundation's string bridging: a create trims each of its fields, and most have nothing
    /// to trim.
    func trimmed(newlines: Bool) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case " ", "\t": return true
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": return newlines
            default: return scalar.value > 0x7F && scalar.properties.generalCategory == .spaceSeparator
            }
        }
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return "" }
        if !isSpace(first) && !isSpace(last) { return String(self) }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[start...end])
        return String(kept)
    }
}
