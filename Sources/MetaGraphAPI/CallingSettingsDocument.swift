import Foundation
import MetaMock

/// The body of `GET /<PHONE_NUMBER_ID>/settings` (spec §6): `calling.status`, the settings that were set,
/// `srtp_key_exchange_protocol` only when set explicitly, and every app's SIP server (`app_id`, `hostname`,
/// `port`, `request_uri_user_params`), with `sip_user_password` when `include_sip_credentials=true`.
enum CallingSettingsDocument {
    static func json(_ business: MockConfiguration.Business, includeCredentials: Bool) -> [String: Any] {
        var calling: [String: Any] = ["status": CallingSettingsUpdate.word(business.callingEnabled)]
        var sip: [String: Any] = ["status": CallingSettingsUpdate.word(business.sipEnabled)]
        for (key, text) in business.otherCallingSettings {
            guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { continue }
            if key.hasPrefix("sip.") { sip[String(key.dropFirst(4))] = value } else { calling[key] = value }
        }
        if let srtp = business.srtpKeyExchangeSetting { calling["srtp_key_exchange_protocol"] = srtp }
        if !business.additionalCodecs.isEmpty { calling["audio"] = ["additional_codecs": business.additionalCodecs] }
        sip["servers"] = business.servers.map { server -> [String: Any] in
            var entry: [String: Any] = ["app_id": UInt64(server.appID).map { $0 as Any } ?? server.appID, "hostname": server.hostname,
                                        "port": server.port]
            if !server.requestURIUserParams.isEmpty { entry["request_uri_user_params"] = server.requestURIUserParams }
            if includeCredentials, let password = business.app(server.appID)?.sipPassword, !password.isEmpty {
                entry["sip_user_password"] = password
            }
            return entry
        }
        calling["sip"] = sip
        return ["calling": calling]
    }
}
