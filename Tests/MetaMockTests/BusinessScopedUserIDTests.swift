import MetaMock
import Testing

/// BSUIDs: shaped as Meta's (`US.` and digits), different per business, and read back to the number by the
/// business they belong to only.
struct BusinessScopedUserIDTests {
    @Test func roundTripsPerBusiness() throws {
        let businesses = ["+33639980001", "+33639980002"]
        var seen = Set<String>()
        for user in ["+15550200000", "+15550299999", "+447700900123", "+2348031234567", "+15550200001"] {
            let a = try #require(BusinessScopedUserID.make(user: user, business: businesses[0]))
            let b = try #require(BusinessScopedUserID.make(user: user, business: businesses[1]))
            #expect(a != b, "scoped to the business")
            #expect(a.range(of: #"^[A-Z]{2}\.[0-9]{1,19}$"#, options: .regularExpression) != nil, "\(a)")
            #expect(BusinessScopedUserID.number(from: a, business: businesses[0]) == user)
            #expect(BusinessScopedUserID.number(from: b, business: businesses[1]) == user)
            #expect(BusinessScopedUserID.number(from: a, business: businesses[1]) != user)
            #expect(seen.insert(a).inserted)
        }
        #expect(BusinessScopedUserID.make(user: "15550200000", business: businesses[0]) == nil)
        for junk in ["US", "US.", "US.x1", "USA.1", ".1", "US.99999999999999999999"] {
            #expect(BusinessScopedUserID.number(from: junk, business: businesses[0]) == nil, "\(junk)")
        }
    }
}
