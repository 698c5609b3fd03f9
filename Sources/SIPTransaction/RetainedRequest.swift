import SIPCore

extension SIPRequest {
    /// What a transaction's `request` reads once the machine has dropped the request it no longer needs
    /// (a 2xx received, the final response sent and acknowledged): a transaction that lingers for Timer M, K,
    /// L or J keeps only what the rest of its life needs, so a load run's memory does not hold 32 s of
    /// messages.
    public static let released = SIPRequest(method: SIPMethod("RELEASED"), uri: SIPURI(host: "released.invalid"))
}
