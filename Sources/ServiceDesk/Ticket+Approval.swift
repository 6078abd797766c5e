import Foundation

/// One approver's vote, with the mail it came in.
public struct ApprovalVote: Sendable, Hashable, Codable {
    public var approver: String
    public var at: Date
    public var reason: String?
    public var messageID: String?

    public init(approver: String, at: Date, reason: String? = nil, messageID: String? = nil) {
        self.approver = approver
        self.at = at
        self.reason = reason
        self.messageID = messageID
    }
}

/// The approval a service request or change waits for: the approvers and quorum are copied from the config when the
/// round starts, so a config change cannot move the goalposts of a running vote.
public struct ApprovalRound: Sendable, Hashable, Codable {
    /// How a round ended.
    public enum Decision: String, Sendable, Codable {
        case approved
        case rejected
    }

    public var approvers: [Approver]
    public var quorum: Quorum
    public var requestedAt: Date
    public var approvals: [ApprovalVote]
    public var rejections: [ApprovalVote]
    public var decision: Decision?

    public init(approvers: [Approver], quorum: Quorum, requestedAt: Date) {
        self.approvers = approvers
        self.quorum = quorum
        self.requestedAt = requestedAt
        self.approvals = []
        self.rejections = []
        self.decision = nil
    }

    /// Approvals needed to pass.
    public var needed: Int { quorum.needed(of: approvers.count) }

    public func isApprover(_ address: String) -> Bool {
        approvers.contains { $0.address.caseInsensitiveCompare(address) == .orderedSame }
    }

    public func hasVoted(_ address: String) -> Bool {
        (approvals + rejections).contains { $0.approver.caseInsensitiveCompare(address) == .orderedSame }
    }

    /// The decision the votes so far force, if any: enough approvals, or too many rejections to still pass.
    public var forcedDecision: Decision? {
        if approvals.count >= needed { return .approved }
        let undecided = approvers.count - approvals.count - rejections.count
        if approvals.count + undecided < needed { return .rejected }
        return nil
    }
}

/// Whether an approval round let the request or change through, and why not.
public enum ApprovalOutcome: Sendable, Hashable {
    case approved
    case rejected(reason: String)
}
