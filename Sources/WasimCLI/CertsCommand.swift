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

    func run() throws {
        let authority = TestCertificateAuthority(directory: out)
        let issued = try authority.ensure(hosts: TestCertificateAuthority.defaultHosts + hosts)
        print("CA: \(authority.caFile)")
        for (host, cert) in issued.sorted(by: { $0.key < $1.key }) {
            print("\(host): \(cert.chainFile) (key \(cert.keyFile))")
        }
    }
}
