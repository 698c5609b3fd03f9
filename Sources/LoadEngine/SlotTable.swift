/// Per-call state of a shard in one array, addressed by slot number: a call's callbacks capture its slot
/// and its call index, so finding the call is an array access and a comparison, not a hash of its
/// Call-ID. Freed slots are reused, so the array grows only to the most calls up at once.
struct SlotTable<Element> {
    private(set) var elements: ContiguousArray<Element?> = []
    private var free: [Int] = []
    private(set) var count = 0

    /// Stores `element` and returns its slot.
    mutating func insert(_ element: Element) -> Int {
        count += 1
        if let slot = free.popLast() {
            elements[slot] = element
            return slot
        }
        elements.append(element)
        return elements.count - 1
    }

    /// Frees `slot` and returns what it held.
    @discardableResult
    mutating func remove(_ slot: Int) -> Element? {
        guard slot >= 0, slot < elements.count, let element = elements[slot] else { return nil }
        elements[slot] = nil
        free.append(slot)
        count -= 1
        return element
    }

    subscript(slot: Int) -> Element? {
        get { slot >= 0 && slot < elements.count ? elements[slot] : nil }
        _modify {
            precondition(slot >= 0 && slot < elements.count, "slot \(slot) out of range")
            yield &elements[slot]
        }
    }

    var isEmpty: Bool { count == 0 }

    /// The slots in use.
    var occupied: [Int] { elements.indices.filter { elements[$0] != nil } }
}
