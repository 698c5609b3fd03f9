import Foundation
import WasimCerts

/// Certificates from a mock's test CA folder.
enum TestCertificateAuthorityAccess {
    static func issue(host: String, in directory: String) throws -> IssuedCertificate {
        try TestCertificateAuthority(directory: directory).issue(host: host)
    }

    static func existing(host: String, in directory: String) -> IssuedCertificate {
        let ca = TestCertificateAuthority(directory: directory)
        return IssuedCertificate(chainFile: ca.chainFile(for: host), keyFile: ca.keyFile(for: host))
    }
}

/// `openssl s_server` as a business TLS server on 127.0.0.1. Its standard input is a pipe kept open, so it
/// keeps serving until terminated.
struct OpenSSLServer {
    let process: Process
    let log: URL
    let port: Int

    static func start(port: Int, chain: String, key: String, extra: [String], work: TemporaryDirectory) throws -> OpenSSLServer {
        let openssl = Peers.path("openssl") ?? "/usr/bin/openssl"
        let (process, log) = try ExternalProcess.start(openssl, ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", chain, "-key", key, "-naccept", "1"] + extra,
                                                       directory: work.url)
        return OpenSSLServer(process: process, log: log, port: port)
    }

    func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func terminate() {
        ExternalProcess.stop(process)
    }
}

/// A Kamailio configuration for an SBC edge: TLS towards Meta (certificate for sip.example.com), TCP towards
/// the business UAS, record-routing both sides (double Record-Route).
enum KamailioEdge {
    static func config(tlsPort: Int, tcpPort: Int, uasPort: Int, certs: String) -> String {
        """
        #!KAMAILIO
        debug=2
        log_stderror=yes
        children=1
        tcp_children=2
        auto_aliases=no
        listen=tls:127.0.0.1:\(tlsPort)
        listen=tcp:127.0.0.1:\(tcpPort)
        enable_tls=yes
        tcp_accept_aliases=yes
        mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
        loadmodule "tm.so"
        loadmodule "sl.so"
        loadmodule "tls.so"
        loadmodule "rr.so"
        loadmodule "maxfwd.so"
        loadmodule "siputils.so"
        loadmodule "pv.so"
        loadmodule "textops.so"
        modparam("tls", "certificate", "\(certs)/sip.example.com.pem")
        modparam("tls", "private_key", "\(certs)/sip.example.com.key.pem")
        modparam("tls", "verify_certificate", 0)
        modparam("tls", "require_certificate", 0)
        modparam("tls", "tls_method", "TLSv1.2+")
        modparam("rr", "enable_double_rr", 1)

        request_route {
            if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
                sl_send_reply("404", "Not here");
                exit;
            }
            if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
            record_route();
            $du = "sip:127.0.0.1:\(uasPort);transport=tcp";
            t_relay();
        }

        """
    }
}
