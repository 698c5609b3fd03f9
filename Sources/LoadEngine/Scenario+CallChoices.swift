/// Per-call choices of a schedule (direction, who hangs up): a function of the seed and the call's index
/// only, so a run makes the same choices whichever shard starts a call and however many loops there are.
extension Scenario {
    /// The call's draw for one purpose, uniform in [0, 1) (SplitMix64 of seed, index and purpose).
    func draw(_ index: Int, purpose: UInt64) -> Double {
        var z = seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ purpose &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    /// Call `index` is user-initiated (the mock places it as Meta).
    public func isUserInitiated(_ index: Int) -> Bool {
        switch direction {
        case .bic: return false
        case .uic: return true
        case .mix: return draw(index, purpose: 1) < uicShare
        }
    }

    /// Call `index`, once connected, is ended by the WhatsApp user (Meta's BYE) rather than by the business.
    public func userHangsUp(_ index: Int) -> Bool {
        guard let share = userHangUpShare else { return isUserInitiated(index) }
        return share >= 1 || (share > 0 && draw(index, purpose: 2) < share)
    }
}
