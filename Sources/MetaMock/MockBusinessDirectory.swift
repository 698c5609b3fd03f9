import NIOConcurrencyHelpers

/// The businesses' calling settings as they are now, shared by every event loop: each BIC INVITE and UIC
/// reads its number's entry (one lock, one lookup), and the Graph API mock changes them while the mock runs,
/// so a new hostname, a rotated password or a new key exchange applies to the next call.
public final class MockBusinessDirectory: Sendable {
    private let entries: NIOLockedValueBox<[MockConfiguration.Business]>
    private let indexByNumber: [String: Int]
    private let indexByPhoneNumberID: [String: Int]

    public init(_ businesses: [MockConfiguration.Business]) {
        entries = NIOLockedValueBox(businesses)
        var byNumber: [String: Int] = [:], byID: [String: Int] = [:]
        for (i, b) in businesses.enumerated() {
            byNumber[b.number] = byNumber[b.number] ?? i
            byID[b.phoneNumberID] = byID[b.phoneNumberID] ?? i
        }
        indexByNumber = byNumber
        indexByPhoneNumberID = byID
    }

    public func business(number: String) -> MockConfiguration.Business? {
        guard let i = indexByNumber[number] else { return nil }
        return entries.withLockedValue { $0[i] }
    }

    public func business(phoneNumberID: String) -> MockConfiguration.Business? {
        guard let i = indexByPhoneNumberID[phoneNumberID] else { return nil }
        return entries.withLockedValue { $0[i] }
    }

    /// Every business, as now.
    public var businesses: [MockConfiguration.Business] { entries.withLockedValue { $0 } }

    /// Changes one business atomically: `body` works on a copy, which replaces the entry only when `body`
    /// returns (a thrown error changes nothing). nil: no such phone number id.
    public func update<T>(phoneNumberID: String, _ body: (inout MockConfiguration.Business) throws -> T) rethrows -> T? {
        guard let i = indexByPhoneNumberID[phoneNumberID] else { return nil }
        return try entries.withLockedValue { all in
            var copy = all[i]
            let result = try body(&copy)
            all[i] = copy
            return result
        }
    }
}
