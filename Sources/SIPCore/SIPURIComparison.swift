extension SIPURI {
    /// URI equivalence of RFC 3261 §19.1.4: scheme, user and password case-sensitive, host case-insensitive,
    /// ports equal (an absent port differs from an explicit one); `user`, `ttl`, `method`, `maddr` and
    /// `transport` must match when either URI has them; other parameters must match when both have them;
    /// the `?headers` part must be equal. Escapes are compared resolved.
    public func equivalent(to other: SIPURI) -> Bool {
        guard scheme == other.scheme else { return false }
        guard isSIP, other.isSIP else { return opaque == other.opaque }
        guard unescapedUser == other.unescapedUser, password == other.password,
              host.lowercased() == other.host.lowercased(), port == other.port
        else { return false }
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            if parameters.value(name)?.lowercased() != other.parameters.value(name)?.lowercased() { return false }
            if parameters.contains(name) != other.parameters.contains(name) { return false }
        }
        for item in parameters.items where other.parameters.contains(item.name) {
            if other.parameters.value(item.name)?.lowercased() != item.value?.lowercased() { return false }
        }
        return (headers ?? "") == (other.headers ?? "")
    }
}
