import Foundation
import GRDB

/// What the routes need of a ticket store: the four endpoints' reads and writes, and the
/// admin API's whole-store operations.
protocol TicketStorage: Sendable {
    /// The stored JSON of one ticket, nil when there is no such ticket.
    func document(id: String) async throws -> Data?
    /// One page of the tickets matching `filter`, and how many match in all.
    func list(_ filter: TicketFilter) async throws -> (total: Int, documents: [Data])
    /// Stores a new ticket under a fresh unique id; returns its JSON once committed.
    func create(_ newTicket: NewTicket, now: Int) async throws -> Data
    /// Replaces a ticket's tags; its JSON once committed, nil when unknown.
    func replaceTags(id: String, with tags: [String], now: Int) async throws -> Data?
    /// Stores fully formed tickets (a seed, a snapshot) in one transaction.
    func insert(_ tickets: [Ticket]) async throws
    /// How many tickets are stored.
    func count() async throws -> Int
    /// Every stored ticket (a snapshot).
    func allTickets() async throws -> [Ticket]
    /// Removes every ticket.
    func removeAll() async throws
}

/// The sandbox's tickets in SQLite, through GRDB: a file (WAL, shared by concurrent readers) or
/// memory. Each ticket is stored as the JSON the API answers with, beside the columns the list
/// filters and orders on, so a read is one indexed row and a page is one indexed query.
///
/// Durability: writes go through `GroupCommit`, which answers a create or a tag update only after
/// its transaction has committed. A file database runs in WAL mode with `synchronous = NORMAL`:
/// a commit is appended to the WAL with write(2) before COMMIT returns, so it is in the operating
/// system's page cache and survives `kill -9` of the server (the process's death loses nothing
/// the kernel already holds); the WAL is fsynced at checkpoints. What NORMAL gives up against FULL
/// is only the last commits on an OS crash or power loss, which a local sandbox can afford, for
/// several times the create rate. The database itself never corrupts in either mode.
///
/// Documents (single reads and list pages) are served from `DocumentCache` once read or written.
final class TicketStore: TicketStorage {
    private let writer: any DatabaseWriter
    private let groupCommit: GroupCommit
    /// Copies the WAL into a file database in the background; nil in memory.
    private let checkpointer: BackgroundCheckpointer?
    private let agents: AgentDirectory
    private let cache = DocumentCache()

    /// Opens (creating if needed) and migrates the database at `path`, or an in-memory one.
    init(path: String?, agents: AgentDirectory = AgentDirectory()) throws {
        var configuration = Configuration()
        configuration.label = "LiveChatSandbox"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")  // with WAL: see the type's comment
            // 16 MiB of page cache (the default is 2 MiB): creates touch index pages all over
            // the file (ids are random), and each page not cached is a read from the OS.
            try db.execute(sql: "PRAGMA cache_size = -16384")
            // Checkpoints copy the WAL into the database and fsync: fewer, larger ones keep that
            // off most commits (the WAL grows to about 40 MB between them).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
        if let path {
            writer = try DatabasePool(path: path, configuration: configuration)
        } else {
            writer = try DatabaseQueue(configuration: configuration)
        }
        groupCommit = GroupCommit(writer: writer)
        self.agents = agents
        try Self.migrator.migrate(writer)
        checkpointer = try path.map { try BackgroundCheckpointer(path: $0) }
    }

    /// The schema, one migration per change, applied in order by GRDB's migrator.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("create tickets") { db in
            try db.execute(sql: """
                CREATE TABLE ticket (
                    id TEXT PRIMARY KEY NOT NULL,
                    status TEXT NOT NULL,
                    requesterMailKey TEXT NOT NULL,   -- lowercased, for the exact case-insensitive filter
                    assigneeKey TEXT,                 -- lowercased login; NULL when unassigned
                    sourceType TEXT NOT NULL,
                    modified INTEGER NOT NULL,
                    firstActivity INTEGER NOT NULL,   -- earliest event, opened or modified date
                    lastActivity INTEGER NOT NULL,    -- latest of them
                    tagCount INTEGER NOT NULL,
                    searchText TEXT NOT NULL,         -- lowercased subject, messages, requester
                    document BLOB NOT NULL            -- the ticket's JSON, as served
                );
                CREATE INDEX ticket_by_modified ON ticket(modified, id);
                CREATE INDEX ticket_by_status ON ticket(status, modified, id);
                CREATE INDEX ticket_by_assignee ON ticket(assigneeKey, modified, id);
                CREATE INDEX ticket_by_requester ON ticket(requesterMailKey);
                CREATE TABLE ticketTag (
                    ticketId TEXT NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
                    tag TEXT NOT NULL,
                    PRIMARY KEY (tag, ticketId)
                ) WITHOUT ROWID;
                CREATE INDEX ticketTag_by_ticket ON ticketTag(ticketId);
                CREATE TABLE ticketGroup (
                    ticketId TEXT NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
                    groupId INTEGER NOT NULL,
                    PRIMARY KEY (groupId, ticketId)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("covering listing index") { db in
            // Every list query filters on the activity dates and orders by (modified, id). Without
            // this, counting and paging read each ticket's table row, document and search text
            // included; with it they scan a narrow index and only the page's documents are read.
            try db.execute(sql: """
                CREATE INDEX ticket_listing ON ticket(modified, id, firstActivity, lastActivity, status,
                    assigneeKey, tagCount, sourceType, requesterMailKey)
                """)
        }
        migrator.registerMigration("groups in the ticket row, fewer indexes") { db in
            // Each B-tree a create updates costs the writer (serial) time and WAL pages. The
            // groups move into the row (",0,3,"), so a create no longer writes a group table keyed
            // by random ids; the status and assignee filters, like the others, scan the covering
            // listing index, whose prefix (modified, id) also made ticket_by_modified redundant.
            try db.execute(sql: """
                ALTER TABLE ticket ADD COLUMN groupKeys TEXT NOT NULL DEFAULT '';
                UPDATE ticket SET groupKeys = COALESCE(
                    (SELECT ',' || group_concat(groupId, ',') || ',' FROM ticketGroup WHERE ticketId = ticket.id), '');
                DROP TABLE ticketGroup;
                DROP INDEX ticket_by_modified;
                DROP INDEX ticket_by_status;
                DROP INDEX ticket_by_assignee;
                DROP INDEX ticket_listing;
                CREATE INDEX ticket_listing ON ticket(modified, id, firstActivity, lastActivity, status,
                    assigneeKey, tagCount, sourceType, requesterMailKey, groupKeys);
                """)
        }
        return migrator
    }

    /// The stored JSON of one ticket, nil when there is no such ticket.
    func document(id: String) async throws -> Data? {
        let lookup = cache.lookup(id)
        if let document = lookup.document { return document }
        let document = try await writer.read { db in try Self.storedDocument(db, id: id) }
        if let document { cache.fill(id, document, readAt: lookup.generation) }
        return document
    }

    /// One page of the tickets matching `filter`, and how many match in all. The page's ids come
    /// from the listing index; their documents from the cache, or by primary key when not cached.
    func list(_ filter: TicketFilter) async throws -> (total: Int, documents: [Data]) {
        let (condition, arguments) = filter.whereClause
        let offset = (filter.page - 1) * TicketFilter.pageSize
        let cache = self.cache
        return try await writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ticket WHERE \(condition)", arguments: arguments) ?? 0
            guard offset < total else { return (total, []) }
            let ids = try String.fetchAll(
                db,
                sql: "SELECT id FROM ticket WHERE \(condition) ORDER BY \(filter.orderClause) LIMIT ? OFFSET ?",
                arguments: arguments + [TicketFilter.pageSize, offset])
            var documents: [Data] = []
            documents.reserveCapacity(ids.count)
            for id in ids {
                let lookup = cache.lookup(id)
                if let document = lookup.document {
                    documents.append(document)
                } else if let document = try Self.storedDocument(db, id: id) {
                    cache.fill(id, document, readAt: lookup.generation)
                    documents.append(document)
                }
            }
            return (total, documents)
        }
    }

    /// Stores a new ticket under a fresh unique id; returns its JSON once committed.
    ///
    /// The row (document, search text, keys) is made before the write, on the request's own
    /// thread: the writer is serial, and every microsecond spent in it is one for all creates.
    func create(_ newTicket: NewTicket, now: Int) async throws -> Data {
        let agents = self.agents
        let drawn = StoredTicket(newTicket.ticket(id: TicketID.random(), now: now, agents: agents))
        let stored = try await groupCommit.write { db in
            // Ids are random, so one may already be taken: then draw again (and make the row
            // again, its document names its id). The writer is serial: no create can race this.
            var row = drawn
            while try !Self.insert(row, into: db, unlessTaken: true) {
                row = StoredTicket(newTicket.ticket(id: TicketID.random(), now: now, agents: agents))
            }
            return row
        }
        cache.store(stored.id, stored.document)
        return stored.document
    }

    /// Replaces a ticket's tags and bumps `modified`; returns its JSON once committed, nil when unknown.
    func replaceTags(id: String, with tags: [String], now: Int) async throws -> Data? {
        let document = try await groupCommit.write { db -> Data? in
            guard let stored = try Data.fetchOne(db, sql: "SELECT document FROM ticket WHERE id = ?", arguments: [id]) else {
                return nil
            }
            var ticket = try Ticket.decode(stored)
            ticket.tags = tags
            ticket.modified = max(ticket.modified, now)
            try db.execute(sql: "DELETE FROM ticket WHERE id = ?", arguments: [id])
            let row = StoredTicket(ticket)
            _ = try Self.insert(row, into: db, unlessTaken: false)
            return row.document
        }
        if let document { cache.store(id, document) }
        return document
    }

    /// Stores fully formed tickets (the seed) in one transaction.
    func insert(_ tickets: [Ticket]) async throws {
        try await writer.write { db in
            for ticket in tickets { _ = try Self.insert(StoredTicket(ticket), into: db, unlessTaken: false) }
        }
    }

    /// How many tickets are stored.
    func count() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ticket") ?? 0 }
    }

    /// Every stored ticket, decoded from its document.
    func allTickets() async throws -> [Ticket] {
        let documents = try await writer.read { db in try Data.fetchAll(db, sql: "SELECT document FROM ticket ORDER BY id") }
        return try documents.map(Ticket.decode)
    }

    /// Removes every ticket, its tags and groups; the cache starts over.
    func removeAll() async throws {
        try await groupCommit.write { db in
            try db.execute(sql: "DELETE FROM ticketTag")
            try db.execute(sql: "DELETE FROM ticket")
        }
        cache.removeAll()
    }

    /// Closes the database; later calls fail.
    func close() throws {
        try checkpointer?.stop()
        try writer.close()
    }

    private static func storedDocument(_ db: Database, id: String) throws -> Data? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT document FROM ticket WHERE id = ?"), arguments: [id])
    }

    /// Writes the ticket's row, tags and groups. With `unlessTaken`, writes nothing and returns
    /// false when the id is already taken (one indexed probe, the insert's own).
    private static func insert(_ row: StoredTicket, into db: Database, unlessTaken: Bool) throws -> Bool {
        // Cached statements: prepared once per connection, not once per ticket.
        let statement = try db.cachedStatement(
            sql: unlessTaken
                ? "INSERT OR IGNORE INTO ticket (\(StoredTicket.columnNames)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                : "INSERT INTO ticket (\(StoredTicket.columnNames)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try statement.execute(arguments: row.columns)
        if unlessTaken && db.changesCount == 0 { return false }
        for tag in row.tags {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO ticketTag (ticketId, tag) VALUES (?, ?)").execute(arguments: [row.id, tag])
        }
        return true
    }
}

/// A ticket as stored: its document and the columns lists filter on, made once, before the
/// write.
struct StoredTicket: Sendable {
    var id: String
    var document: Data
    var tags: [String]
    /// The `ticket` table's columns, in the order of `columnNames`.
    var columns: StatementArguments
    static let columnNames = "id, status, requesterMailKey, assigneeKey, sourceType, modified, firstActivity, lastActivity, tagCount, searchText, groupKeys, document"

    /// The groups as stored for the group filter: ",0,3," (empty without groups).
    static func groupKeys(_ groups: [Int]) -> String {
        groups.isEmpty ? "" : "," + groups.map(String.init).joined(separator: ",") + ","
    }

    init(_ ticket: Ticket) {
        let activity = ticket.activityDates
        id = ticket.id
        document = ticket.encoded()
        tags = ticket.tags
        columns = [
            ticket.id, ticket.status.rawValue, ticket.requester.mail.lowercased(),
            ticket.assignee?.id.lowercased(), ticket.source.type, ticket.modified,
            activity.min(), activity.max(), ticket.tags.count, ticket.searchText,
            Self.groupKeys(ticket.groups), document,
        ]
    }
}

/// Ticket ids: five characters from A–Z and 0–9.
enum TicketID {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// A fresh random id: five characters from one draw of the system generator (one
    /// `getrandom` call, where drawing each character would make five).
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        var draw = generator.next(upperBound: 36 * 36 * 36 * 36 * 36 as UInt64)
        var characters = [Character]()
        characters.reserveCapacity(5)
        for _ in 0..<5 {
            characters.append(alphabet[Int(draw % 36)])
            draw /= 36
        }
        return String(characters)
    }

    static func random<G: RandomNumberGenerator>(using generator: inout G) -> String {
        String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Whether `text` has the shape of a ticket id (anything else cannot name a ticket).
    static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 5 && text.allSatisfy { alphabet.contains($0) }
    }
}

/// Checkpoints a WAL database from a connection of its own, a few times a second, so that
/// copying the WAL into the database file and its fsync happen beside the writer rather than in
/// the commit that crosses the WAL's size limit. Passive checkpoints never block the writer nor
/// the readers; when the WAL still reaches `wal_autocheckpoint`, the writer checkpoints the few
/// frames left itself and the WAL starts over.
final class BackgroundCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let task: Task<Void, Never>

    init(path: String, every interval: Duration = .milliseconds(100)) throws {
        var configuration = Configuration()
        configuration.label = "LiveChatSandbox.checkpoint"
        configuration.prepareDatabase { db in
            // NORMAL: the WAL is fsynced before the copy, the database after it.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        self.connection = connection
        task = Task.detached(priority: .utility) {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
        }
    }

    /// Stops checkpointing and closes the connection.
    func stop() throws {
        task.cancel()
        try connection.close()
    }
}
