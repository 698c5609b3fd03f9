import SIPCore
import SIPTransport

/// Shapes responses the way Meta's endpoint writes them (spec §2.1, §2.2): its Record-Route entries
/// prepended, `Allow`, `X-FB-External-Domain`, a UUID To-tag, and the reason of a rejection repeated in
/// `Warning: 399 wa.meta.vc "<text>"`.
struct MetaResponseShaping {
    let configuration: MockConfiguration
    static let allow = "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS"

    func response(to request: SIPRequest, status: Int, reason: String? = nil, toTag: String?, flow: SIPFlow? = nil) -> SIPResponse {
        var response = SIPResponse(to: request, status: status, reason: reason, toTag: toTag)
        if request.method == .invite {
            // Meta prepends its two Record-Route entries, then copies the request's own (spec §2.1).
            for rr in request.headers.values(.recordRoute).reversed() { response.headers.prepend(.recordRoute, String(rr)) }
            for rr in recordRoutes(flow).reversed() { response.headers.prepend(.recordRoute, rr) }
            moveViasFirst(&response)
        }
        if status != 100 {
            response.headers.add(.allow, Self.allow)
            response.headers.add("X-FB-External-Domain", configuration.domain)
        }
        return response
    }

    /// Meta's Record-Route entries, or the lab route to the mock itself.
    func recordRoutes(_ flow: SIPFlow?) -> [String] {
        guard let host = configuration.labRouteHost, let flow else { return configuration.recordRoutes }
        return ["<sip:\(host):\(flow.channel.localAddress?.port ?? 5061);transport=\(flow.transport.rawValue);lr>"]
    }

    /// The host (and port) of the mock's Contact: Meta's domain, or the lab route host.
    func contactHost(_ flow: SIPFlow) -> String {
        guard let host = configuration.labRouteHost else { return configuration.domain }
        return "\(host):\(flow.channel.localAddress?.port ?? 5061)"
    }

    func rejection(to request: SIPRequest, status: Int, reason: String, toTag: String, flow: SIPFlow? = nil) -> SIPResponse {
        var response = response(to: request, status: status, reason: reason, toTag: toTag, flow: flow)
        if status >= 400 && status != 407 {
            let text = reason.replacingOccurrences(of: "\"", with: "'")
            response.headers.add(.warning, "399 \(configuration.domain) \"\(text)\"")
        }
        return response
    }

    /// Keeps Via lines first, as Meta's samples order them (Via, Record-Route, Call-ID, From, To, CSeq).
    private func moveViasFirst(_ response: inout SIPResponse) {
        let fields = response.headers.fields
        let ordered = fields.filter { $0.name == .via } + fields.filter { $0.name != .via }
        response.headers = SIPHeaders(ordered)
    }
}
