public import Foundation
public import TriageMIME

/// Service levels (`service-levels.toml`): when the team works (calendars), who is served how (target
/// groups), and per (group, category) the policy: degree of automation, response times, warning,
/// escalation, acknowledgement, priority.
public struct ServiceLevels: Sendable {
    public var calendars: [String: BusinessCalendar]
    public var groups: [TargetGroup]
    /// The group of a sender no group claims.
    public var defaultGroup: String?
    public var policies: [ServicePolicy]

    public init(calendars: [String: BusinessCalendar] = [:], groups: [TargetGroup] = [], defaultGroup: String? = nil,
                policies: [ServicePolicy] = [])
    {
        self.calendars = calendars
        self.groups = groups
        self.defaultGroup = defaultGroup
        self.policies = policies
    }

    /// The target group of a message: a classifier rule's `target_group` first, then the sender's address,
    /// its domain, the mailbox, and finally the default group.
    public func group(sender: String, mailbox: String, ruleGroup: String?) -> (name: String, match: GroupMatch)? {
        if let ruleGroup, groups.contains(where: { $0.name == ruleGroup }) { return (ruleGroup, .rule) }
        let s = sender.lowercased()
        if let g = groups.first(where: { $0.senders.contains(s) }) { return (g.name, .sender) }
        let domain = s.split(separator: "@").last.map(String.init) ?? ""
        if !domain.isEmpty, let g = groups.first(where: { $0.matches(domain: domain) }) { return (g.name, .domain) }
        if let g = groups.first(where: { $0.mailboxes.contains(mailbox) }) { return (g.name, .mailbox) }
        if let d = defaultGroup { return (d, .defaultGroup) }
        return nil
    }

    /// Group, policy and due times for a ticket from `sender` through `mailbox` in `category`, received at
    /// `receivedAt` (seconds since 1970), with the reasons. A rule's target group and priority come first.
    public func decide(sender: String, mailbox: String, category: String?, ruleGroup: String?, rulePriority: String?,
                       receivedAt: Int64) -> (service: ServiceDecision, policy: ServicePolicy?, reasons: [DecisionReason])
    {
        var reasons: [DecisionReason] = []
        var sd = ServiceDecision(acknowledge: false)
        if let g = group(sender: sender, mailbox: mailbox, ruleGroup: ruleGroup) {
            sd.group = g.name
            sd.groupMatch = g.match
            reasons.append(.targetGroup(g.name, g.match))
        }
        sd.priority = rulePriority
        guard let p = policy(group: sd.group, category: category) else {
            reasons.append(.noServicePolicy)
            return (sd, nil, reasons)
        }
        sd.policy = p.key
        sd.priority = rulePriority ?? p.priority
        sd.calendar = p.calendar
        sd.escalateTo = p.escalateTo
        sd.acknowledge = p.acknowledge
        reasons.append(.servicePolicy(p.key))
        if let cal = calendars[p.calendar] {
            let received = Date(timeIntervalSince1970: TimeInterval(receivedAt))
            sd.firstResponse = cal.adding(p.firstResponse, to: received)
            sd.resolutionDue = p.resolution.flatMap { cal.adding($0, to: received)?.due }
            sd.warnAt = cal.adding(Int64((Double(p.firstResponse) * p.warnAt).rounded()), to: received)?.due
            if let f = sd.firstResponse { reasons.append(.due(f)) }
        }
        return (sd, p, reasons)
    }

    /// The most specific policy: group and category, then group, then category, then the general one.
    public func policy(group: String?, category: String?) -> ServicePolicy? {
        func find(_ g: String?, _ c: String?) -> ServicePolicy? { policies.first { $0.group == g && $0.category == c } }
        return (group.flatMap { g in category.flatMap { find(g, $0) } }) ?? group.flatMap { find($0, nil) }
            ?? category.flatMap { find(nil, $0) } ?? find(nil, nil)
    }
}

/// How a message found its target group.
public enum GroupMatch: String, Sendable, Equatable, Codable {
    case rule, sender, domain, mailbox
    case defaultGroup = "default"
}

/// A target group: business-critical, commercial, administrative, ... matched by sender or mailbox.
public struct TargetGroup: Sendable, Equatable {
    public var name: String
    /// Whole addresses, lowercased.
    public var senders: Set<String>
    /// Domains, lowercased; a domain also matches its subdomains.
    public var domains: [String]
    public var mailboxes: Set<String>

    public init(name: String, senders: Set<String> = [], domains: [String] = [], mailboxes: Set<String> = []) {
        self.name = name
        self.senders = Set(senders.map { $0.lowercased() })
        self.domains = domains.map { $0.lowercased() }
        self.mailboxes = mailboxes
    }

    func matches(domain: String) -> Bool {
        domains.contains { domain == $0 || domain.hasSuffix("." + $0) }
    }
}

/// The service promised to one (group, category); `group` or `category` nil means "any".
public struct ServicePolicy: Sendable, Equatable {
    public var group: String?
    public var category: String?
    public var calendar: String
    /// Working time until the first answer is due, in seconds.
    public var firstResponse: Int64
    /// Working time until the ticket should be resolved, in seconds.
    public var resolution: Int64?
    /// Share of the first-response time after which a warning is logged (0.8 = 80%).
    public var warnAt: Double
    /// Who gets the escalation mail at the breach.
    public var escalateTo: String?
    /// Whether a queued ticket gets an acknowledgement naming the expected answer time.
    public var acknowledge: Bool
    public var priority: String?
    /// The most automation this policy allows; the classifier's degree is only ever lowered to it.
    public var degree: AutomationDegree?

    public init(group: String? = nil, category: String? = nil, calendar: String, firstResponse: Int64, resolution: Int64? = nil,
                warnAt: Double = 0.8, escalateTo: String? = nil, acknowledge: Bool = false, priority: String? = nil,
                degree: AutomationDegree? = nil)
    {
        self.group = group
        self.category = category
        self.calendar = calendar
        self.firstResponse = firstResponse
        self.resolution = resolution
        self.warnAt = warnAt
        self.escalateTo = escalateTo
        self.acknowledge = acknowledge
        self.priority = priority
        self.degree = degree
    }

    /// "business-critical/order_info", "business-critical/*", "*/password", "*/*".
    public var key: String { "\(group ?? "*")/\(category ?? "*")" }
}

/// The service-level part of a decision: group, policy, due times with their explanation.
public struct ServiceDecision: Sendable, Equatable, Codable {
    public var group: String?
    public var groupMatch: GroupMatch?
    /// The policy's key ("business-critical/*"); nil when no policy applies.
    public var policy: String?
    public var priority: String?
    public var calendar: String?
    public var firstResponse: DueTime?
    public var resolutionDue: Date?
    /// When the warning is due (the policy's share of the first-response time).
    public var warnAt: Date?
    public var escalateTo: String?
    public var acknowledge: Bool

    public init(group: String? = nil, groupMatch: GroupMatch? = nil, policy: String? = nil, priority: String? = nil, calendar: String? = nil,
                firstResponse: DueTime? = nil, resolutionDue: Date? = nil, warnAt: Date? = nil, escalateTo: String? = nil, acknowledge: Bool)
    {
        self.group = group
        self.groupMatch = groupMatch
        self.policy = policy
        self.priority = priority
        self.calendar = calendar
        self.firstResponse = firstResponse
        self.resolutionDue = resolutionDue
        self.warnAt = warnAt
        self.escalateTo = escalateTo
        self.acknowledge = acknowledge
    }
}

extension AutomationDegree {
    /// More automation ranks higher: manual < shadow < semi-automatic < automatic.
    public var rank: Int {
        switch self {
        case .manual: return 0
        case .shadow: return 1
        case .semiAutomatic: return 2
        case .automatic: return 3
        }
    }
}

/// Due times as a customer reads them, in the calendar's zone and the customer's language.
public enum DueText {
    /// "Dienstag, 8. Dezember 2026, 10:30 Uhr (Europe/Vienna)" / "Tuesday, 8 December 2026, 10:30 (Europe/Vienna)".
    public static func format(_ date: Date, timeZone: String, language: String) -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        if language == "de" {
            f.locale = Locale(identifier: "de_DE")
            f.dateFormat = "EEEE, d. MMMM yyyy, HH:mm 'Uhr'"
        } else {
            f.locale = Locale(identifier: "en_GB")
            f.dateFormat = "EEEE, d MMMM yyyy, HH:mm"
        }
        return f.string(from: date) + " (\(timeZone))"
    }
}

/// The escalation mail at an SLA breach: to the policy's address, from the ticket's mailbox. Pure.
public enum Escalation {
    public static func render(_ alarm: SLAAlarm, from: MailAddress, timeZone: String, domain: String, token: String, now: Int64) -> OutgoingAnswer? {
        guard let to = alarm.escalateTo.flatMap({ MailAddress.parseList($0).first }) else { return nil }
        let due = DueText.format(Date(timeIntervalSince1970: TimeInterval(alarm.due)), timeZone: timeZone, language: "en")
        let body = """
            Ticket #\(alarm.ticketID) has had no first answer by its due time, \(due).

            From:     \(alarm.from)
            Subject:  \(alarm.subject)
            Mailbox:  \(alarm.mailbox)
            Group:    \(alarm.group ?? "-")
            Policy:   \(alarm.policy ?? "-")

            See it with: mailtriage queue show \(alarm.ticketID)
            """
        let mid = ReplyComposer.messageID(ticket: alarm.ticketID, token: "sla" + token, domain: domain)
        let raw = ReplyComposer().render(.init(from: from, to: to, subject: "[SLA] overdue: #\(alarm.ticketID) \(alarm.subject)", messageID: mid,
                                               inReplyTo: nil, references: [], date: now, body: body))
        return OutgoingAnswer(recipient: to.address, envelopeFrom: "", messageID: mid, knowledgeEntry: OutgoingAnswer.escalationEntry, raw: raw)
    }
}
