import Foundation

/// Makes sample tickets: realistic and varied (statuses, sources, groups, tags, assignees, dates
/// spread over six months before the anchor, several events each), and the same for the same
/// seed and anchor. The first is always the official documentation's sample ticket `5FUED`, with
/// its original dates, so that the docs' own curl samples work against a seeded sandbox.
struct Seeder {
    var seed: UInt64
    /// The latest moment a seeded date may have.
    var anchor: Int
    var agents: AgentDirectory = AgentDirectory()

    /// The start of the current UTC day: seeded dates then lie in the past but near today.
    static func defaultAnchor(now: Date = Date()) -> Int {
        let seconds = Int(now.timeIntervalSince1970)
        return seconds - seconds.modulo(86_400)
    }

    /// `count` tickets with distinct ids.
    func tickets(count: Int) -> [Ticket] {
        var batches = self.batches()
        return batches.next(count)
    }

    /// The same tickets as `tickets(count:)`, made a batch at a time, so that seeding a large
    /// store keeps only one batch (and the ids made so far) in memory.
    func batches() -> Batches { Batches(seeder: self, random: SeededRandom(seed: seed)) }

    /// Sample tickets in order, the documentation's sample first.
    struct Batches {
        let seeder: Seeder
        var random: SeededRandom
        var ids: Set<String> = []

        /// The next `count` tickets.
        mutating func next(_ count: Int) -> [Ticket] {
            var tickets: [Ticket] = []
            tickets.reserveCapacity(max(0, count))
            while tickets.count < count {
                if ids.isEmpty {
                    ids.insert(Seeder.documentationSample.id)
                    tickets.append(Seeder.documentationSample)
                    continue
                }
                var id = TicketID.random(using: &random)
                while !ids.insert(id).inserted { id = TicketID.random(using: &random) }
                tickets.append(seeder.ticket(id: id, random: &random))
            }
            return tickets
        }
    }

    /// The ticket of the official v2 docs' samples, as they print it.
    static let documentationSample: Ticket = {
        let mary = EventAuthor(id: "mary.brown@email.com", name: "Mary Brown", type: "client")
        let john = Agent(id: "john.doe@mycompany.com", name: "John Doe")
        let jane = Agent(id: "jane.doe@mycompany.com", name: "Jane Doe")
        return Ticket(
            id: "5FUED", status: .open, subject: "My new shoes are broken",
            requester: Requester(mail: mary.id, name: mary.name), assignee: jane, groups: [0],
            source: TicketSource(type: "mail"), opened: [OpenedSpan(from: 1_384_554_260)], modified: 1_384_790_802,
            firstResponse: FirstResponse(), tags: ["sales", "support", "feedback"],
            events: [
                .message(date: 1_384_554_260, author: mary,
                         text: "Hello,\n\nIt seems that my new shoes are broken. What can we do about this?", source: "mail"),
                .assigneeChanged(date: 1_384_554_270, by: john, to: jane),
                .message(date: 1_384_554_322, author: EventAuthor(id: john.id, name: john.name, type: "agent"),
                         text: "Jane, could you please find a moment to handle this customer's complaint?",
                         isPrivate: true, source: "lc2"),
            ])
    }()

    fileprivate func ticket(id: String, random: inout SeededRandom) -> Ticket {
        let topic = Self.topics.randomElement(using: &random)!
        let person = Self.people.randomElement(using: &random)!
        let domain = Self.domains.randomElement(using: &random)!
        let mail = person.mail(at: domain)
        let client = EventAuthor(id: mail, name: person.name, type: "client")
        let source = Self.weighted(Self.sources, using: &random)
        let status = Self.weighted(Self.statuses, using: &random)
        let assignee: Agent? = random.nextUnit() < 0.75
            ? agents.agent(AgentDirectory.roster.randomElement(using: &random)!.id) : nil
        let dispatcher = agents.agent(AgentDirectory.roster[Int.random(in: 0..<3, using: &random)].id)

        // Opened at some moment in the six months before the anchor, leaving room for the history.
        let created = anchor - Int.random(in: 3_600...(180 * 86_400), using: &random)
        var now = created
        func later(_ range: ClosedRange<Int>) -> Int {
            now = min(anchor - 1, now + Int.random(in: range, using: &random))
            return now
        }

        var events: [TicketEvent] = [
            .message(date: created, author: client, text: topic.opening, source: source)
        ]
        if let assignee {
            events.append(.assigneeChanged(date: later(30...7_200), by: dispatcher, to: assignee))
            let helper = EventAuthor(id: assignee.id, name: assignee.name, type: "agent")
            if random.nextUnit() < 0.3 {
                events.append(.message(date: later(60...3_600), author: helper, text: Self.privateNotes.randomElement(using: &random)!,
                                       isPrivate: true, source: "lc2"))
            }
            if status != .spam {
                events.append(.message(date: later(300...86_400), author: helper, text: topic.reply, source: source))
                if random.nextUnit() < 0.5 {
                    events.append(.message(date: later(600...172_800), author: client, text: topic.followUp, source: source))
                }
            }
        }
        var opened = [OpenedSpan(from: created)]
        if status == .solved || status == .spam {
            let closer = assignee ?? dispatcher
            let closedAt = later(600...259_200)
            events.append(.statusChanged(date: closedAt, by: closer, from: .open, to: status))
            opened[0].to = closedAt
        } else if status == .pending, let assignee {
            events.append(.statusChanged(date: later(60...3_600), by: assignee, from: .open, to: .pending))
        }
        let tagCount = Self.weighted([(0, 3), (1, 4), (2, 2), (3, 1)], using: &random)
        var tags: [String] = []
        for _ in 0..<tagCount {
            let tag = (topic.tags + Self.extraTags).randomElement(using: &random)!
            if !tags.contains(tag) { tags.append(tag) }
        }
        var groups = [0]
        let groupDraw = random.nextUnit()
        if groupDraw < 0.25 { groups = [0, Int.random(in: 1...4, using: &random)] } else if groupDraw < 0.4 {
            groups = [Int.random(in: 1...4, using: &random)]
        }
        let url = source == "chat-window" ? "https://shop.example.com/\(topic.page)" : nil
        return Ticket(
            id: id, status: status, subject: topic.subject,
            requester: Requester(mail: mail, name: person.name), assignee: assignee, groups: groups,
            source: TicketSource(type: source, url: url), opened: opened, modified: now,
            firstResponse: FirstResponse(), tags: tags, events: events)
    }

    private static func weighted<T>(_ choices: [(T, Int)], using random: inout SeededRandom) -> T {
        var draw = Int.random(in: 0..<choices.reduce(0) { $0 + $1.1 }, using: &random)
        for (choice, weight) in choices {
            if draw < weight { return choice }
            draw -= weight
        }
        return choices[choices.count - 1].0
    }

    private struct Person {
        var first: String
        var last: String
        var name: String { "\(first) \(last)" }
        func mail(at domain: String) -> String {
            // "José Álvarez" → "jose.alvarez": decompose, then keep the ASCII letters.
            let ascii = { (s: String) in
                String(String.UnicodeScalarView(s.decomposedStringWithCanonicalMapping.unicodeScalars
                    .filter { $0.isASCII && CharacterSet.letters.contains($0) })).lowercased()
            }
            return "\(ascii(first)).\(ascii(last))@\(domain)"
        }
    }

    private struct Topic {
        var subject: String
        var opening: String
        var reply: String
        var followUp: String
        var tags: [String]
        var page: String
    }

    private static let statuses: [(TicketStatus, Int)] = [(.open, 35), (.pending, 20), (.solved, 35), (.spam, 10)]
    private static let sources: [(String, Int)] = [
        ("mail", 35), ("chat-window", 25), ("lc2", 20), ("facebook", 10), ("agent-app-manual", 10),
    ]
    private static let domains = ["email.com", "example.org", "mail.example.net", "inbox.example.com", "shop.example.co.uk"]
    private static let people: [Person] = [
        Person(first: "Mary", last: "Brown"), Person(first: "José", last: "Álvarez"), Person(first: "Chloé", last: "Martin"),
        Person(first: "Aisha", last: "Khan"), Person(first: "Kenji", last: "Watanabe"), Person(first: "Olga", last: "Petrova"),
        Person(first: "Liam", last: "O'Connor"), Person(first: "Zoë", last: "Fischer"), Person(first: "Ravi", last: "Patel"),
        Person(first: "Ana", last: "Souza"), Person(first: "Ben", last: "Carter"), Person(first: "Ingrid", last: "Larsen"),
        Person(first: "Mateo", last: "Rossi"), Person(first: "Nia", last: "Adeyemi"), Person(first: "Sofia", last: "Nowak"),
        Person(first: "David", last: "Kim"),
    ]
    private static let extraTags = ["vip", "follow-up", "feedback", "urgent"]
    private static let privateNotes = [
        "Checked the order history: this customer has ordered before.",
        "Escalating to the warehouse team, please keep an eye on it.",
        "Possible duplicate of an older ticket.",
    ]
    private static let topics: [Topic] = [
        Topic(subject: "My new shoes are broken", opening: "Hello,\n\nThe sole of my new shoes came off after two days. What can we do about this?",
              reply: "I'm sorry to hear that! I've arranged a free replacement pair.", followUp: "Thank you, that was quick!",
              tags: ["sales", "support", "refund"], page: "shoes/runner-2"),
        Topic(subject: "Where is my order?", opening: "Hi, I ordered a jacket ten days ago and it still hasn't arrived.",
              reply: "Your parcel is with the courier and should arrive within two working days.", followUp: "It arrived today, thanks.",
              tags: ["shipping", "support"], page: "orders/track"),
        Topic(subject: "Invoice for my last purchase", opening: "Could you send me a VAT invoice for order 48213?",
              reply: "Attached is your invoice. Let me know if anything is missing.", followUp: "The company name is wrong on it.",
              tags: ["billing"], page: "account/invoices"),
        Topic(subject: "Charged twice", opening: "My card was charged twice for the same order. Please refund one of the payments.",
              reply: "You're right, the duplicate charge has been refunded; it takes 3–5 days to show.", followUp: "I can see it now, thanks.",
              tags: ["billing", "refund"], page: "checkout/payment"),
        Topic(subject: "Discount code doesn't work", opening: "The code SPRING20 says it is invalid at checkout.",
              reply: "That code expired last week, but I've applied the discount to your order manually.", followUp: "Great, thank you!",
              tags: ["sales"], page: "checkout"),
        Topic(subject: "Size exchange", opening: "Can I exchange these boots for a size 42?",
              reply: "Of course. I've emailed you a prepaid return label.", followUp: "Sent them back this morning.",
              tags: ["shipping", "sales"], page: "returns"),
        Topic(subject: "Website error at checkout", opening: "I get \"Error 500\" when I press Pay. Tried two browsers.",
              reply: "Thanks for reporting this: our developers fixed the payment page, could you try again?", followUp: "Works now.",
              tags: ["bug", "support"], page: "checkout/pay"),
        Topic(subject: "Question about product materials", opening: "Are the leather sandals vegan-friendly?",
              reply: "The sandals use real leather, but our Eco line is fully vegan.", followUp: "I'll look at the Eco line then.",
              tags: ["sales", "feedback"], page: "sandals/classic"),
        Topic(subject: "Cancel my subscription", opening: "Please cancel my monthly sock subscription.",
              reply: "Done: your subscription is cancelled and you won't be charged again.", followUp: "Thanks for the help.",
              tags: ["billing", "support"], page: "account/subscription"),
        Topic(subject: "Ünïcödé in my address", opening: "My street is \"Große Straße\" and the label printed \"Gro?e Stra?e\".",
              reply: "Sorry about that, I've corrected the address on the shipment.", followUp: "Perfect, thanks.",
              tags: ["shipping", "bug"], page: "account/address"),
    ]
}
