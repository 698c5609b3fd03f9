import ArgumentParser
import WasimCerts

/// `wasim certs`: make the test CA and server certificates.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a test CA and server certificates for wa.meta.vc and sip.example.com (kept when present)."
    )

    @Option(help: "Output folder.")
    var out: String = "Certs"

    @Option(name: .customLong("host"), help: "Extra host to issue a certificate for (repeatable).")
    var hosts: [String] = []

    @Option(name: .customLong("ip"), help: "IPv4 address to add to the certificates' subjectAltName (repeatable; for peers that verify by IP).")
    var ipAddresses: [String] = []

    @Flag(help: "Issue the host certificates again (keeps the CA).")
    var force = false

    func run() throws {
        let authority = TestCertificateAuthority(directory: out, ipAddresses: ipAddresses)
        if force {
            for host in TestCertificateAuthority.defaultHosts + hosts { try authority.issue(host: host) }
        }
        let issued = try authority.ensure(hosts: TestCertificateAuthority.defaultHosts + hosts)
        print("CA: \(authority.caFile)")
        for (host, cert) in issued.sorted(by: { $0.key < $1.key }) {
            print("\(host): \(cert.chainFile) (key \(cert.keyFile))")
        }
    }
}
