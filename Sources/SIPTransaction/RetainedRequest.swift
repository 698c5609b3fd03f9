import SIPCore

extension SIPRequest {
    /// What a transaction's `request` reads once the machine has dropped the request it no longer needs
    /// (a 2xx received, the final response sent and acknowledged): a transaction that lingers for Timer M, K,
    /// L or J keeps only what the rest of its life needs, so a load run's memory does not hold 32 s of
    /// messages.
    public static let released = SIPRequest(method: SIPMethod("RELEASED"), uri: SIPURI(host: "released.invalid"))

    /// Whether this is the `released` placeholder (the machine let its request go).
    public var isReleased: Bool { method == SIPRequest.released.method }
}

/// An optional message kept out of line: the machine holding it stays a few words long (the message is
/// one pointer away, and nil costs nothing), which matters for the thousands of transactions a load run
/// keeps lingering in Accepted or Completed.
@propertyWrapper
struct OutOfLine<Wrapped: Sendable>: Sendable {
    private final class Box: Sendable {
        let value: Wrapped
        init(_ value: Wrapped) { self.value = value }
    }

    private var box: Box?

    init(wrappedValue: Wrapped?) { box = wrappedValue.map(Box.init) }

    var wrappedValue: Wrapped? {
        get { box?.value }
        set { box = newValue.map(Box.init) }
    }
}
