import Foundation
import XCTest
@testable import LiveChatSandbox

/// The sandbox trims request fields without Foundation; it must agree with Foundation's trimming.
final class TrimmingTests: XCTestCase {
    func testTrimmingAgreesWithFoundation() {
        let samples = [
            "", " ", "\t", "\n", " \n ", "plain", "  both  ", "\tTabbed\t", "line\n", "\nline", "\r\nCRLF\r\n",
            "\u{00A0}nbsp\u{00A0}", "\u{2003}em space\u{3000}", "\u{2028}separator\u{2029}", "\u{85}next line\u{85}",
            "inner  spaces stay", "ünïcödé ", " 🙂", "\u{0B}\u{0C}vt ff\u{0C}",
        ]
        for sample in samples {
            XCTAssertEqual(sample.trimmed(newlines: false), sample.trimmingCharacters(in: .whitespaces), sample.debugDescription)
            XCTAssertEqual(sample.trimmed(newlines: true), sample.trimmingCharacters(in: .whitespacesAndNewlines), sample.debugDescription)
        }
    }

    func testTicketIdsAreFiveCharactersOfTheAlphabetAndVary() {
        let ids = (0..<2000).map { _ in TicketID.random() }
        XCTAssertTrue(ids.allSatisfy(TicketID.isWellFormed), ids.first { !TicketID.isWellFormed($0) } ?? "")
        XCTAssertGreaterThan(Set(ids).count, 1990, "ids drawn at random rarely repeat")
        for position in 0..<5 {
            let characters = Set(ids.map { Array($0)[position] })
            XCTAssertEqual(characters.count, 36, "every character appears at position \(position)")
        }
    }
}
