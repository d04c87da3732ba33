import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Certificates that must be refused, for IMAP and SMTP alike: one from an unknown CA, an expired one, and one
/// for another host name. Each is made here with the openssl command line (the expired one signed by a CA of
/// this test with dates in the past) and presented by `openssl s_server` on loopback; `check-config --connect`
/// must fail for the mailbox and for `[smtp]` with a message that says what is wrong.
@Suite(.serialized) struct TLSIntegrationTests {
    static func openssl(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw SetupError("openssl \(args.prefix(2).joined(separator: " ")) failed") }
    }

    /// A CA, and certificates signed by it (or not) with the given defect.
    struct Certificates {
        let dir: String
        var ca: String { dir + "/ca.pem" }
        var key: String { dir + "/server.key" }

        init() throws {
            dir = NSTemporaryDirectory() + "mt-tls-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir + "/db/newcerts", withIntermediateDirectories: true)
            try "".write(toFile: dir + "/db/index.txt", atomically: true, encoding: .utf8)
            try "01\n".write(toFile: dir + "/db/serial", atomically: true, encoding: .utf8)
            try """
                [ ca ]
                default_ca = t
                [ t ]
                database = \(dir)/db/index.txt
                new_certs_dir = \(dir)/db/newcerts
                serial = \(dir)/db/serial
                default_md = sha256
                policy = p
                copy_extensions = copy
                unique_subject = no
                [ p ]
                commonName = supplied

                """.write(toFile: dir + "/ca.cnf", atomically: true, encoding: .utf8)
            try TLSIntegrationTests.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mailtriage TLS test CA",
                                             "-keyout", dir + "/ca.key", "-out", ca])
        }

        /// A certificate for `names` (SANs), signed by the CA for the given period, or self-signed.
        func make(_ name: String, host: String, sans: String, start: String? = nil, end: String? = nil, selfSigned: Bool = false) throws -> String {
            let out = dir + "/\(name).pem"
            if selfSigned {
                try TLSIntegrationTests.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(host)",
                                                 "-addext", "subjectAltName=\(sans)", "-keyout", key, "-out", out])
                return out
            }
            if !FileManager.default.fileExists(atPath: key) {
                try TLSIntegrationTests.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
            }
            try TLSIntegrationTests.openssl(["req", "-new", "-key", key, "-subj", "/CN=\(host)", "-addext", "subjectAltName=\(sans)", "-out", dir + "/\(name).csr"])
            var args = ["ca", "-batch", "-config", dir + "/ca.cnf", "-cert", ca, "-keyfile", dir + "/ca.key", "-in", dir + "/\(name).csr", "-out", out, "-notext"]
            if let start, let end { args += ["-startdate", start, "-enddate", end] } else { args += ["-days", "2"] }
            try TLSIntegrationTests.openssl(args)
            return out
        }
    }

    /// `openssl s_server` presenting `cert` on a free loopback port until the returned process is stopped.
    static func serve(_ cert: String, key: String) throws -> (Process, Int) {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-quiet"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Wait until it listens.
        for _ in 0..<100 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            close(s)
            if ok { break }
            usleep(50_000)
        }
        return (p, port)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [("unknown-ca", "unable to get local issuer certificate|self-signed|self signed"),
                      ("expired", "expired"),
                      ("wrong-host", "does not match|no alternative certificate subject name|subject name")])
    func aBadCertificateIsRefusedByIMAPAndSMTP(kind: String, expected: String) throws {
        let certs = try Certificates()
        let cert: String
        switch kind {
        case "unknown-ca": cert = try certs.make(kind, host: "localhost", sans: "DNS:localhost,IP:127.0.0.1", selfSigned: true)
        case "expired": cert = try certs.make(kind, host: "localhost", sans: "DNS:localhost,IP:127.0.0.1", start: "20200101000000Z", end: "20200201000000Z")
        default: cert = try certs.make(kind, host: "mail.example.org", sans: "DNS:mail.example.org")
        }
        let (server, port) = try Self.serve(cert, key: certs.key)
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let root = certs.dir
        try "secret\n".write(toFile: root + "/pw", atomically: true, encoding: .utf8)
        chmod(root + "/pw", 0o600)
        let config = root + "/mailtriage.toml"
        try """
            state_dir = "\(root)/state"
            knowledge_base = "\(AnswerIntegrationTests.repo)/knowledge-base"
            [answers]
            placeholders = { company = "X", shop_url = "https://x.example", password_reset_url = "https://x.example/r", support_hours = "9-5" }
            [smtp]
            url = "smtps://localhost:\(port)"
            ca_file = "\(certs.ca)"
            connect_timeout = "5s"
            [[mailbox]]
            name = "support"
            url = "imaps://localhost:\(port)/INBOX"
            username = "u"
            password_file = "\(root)/pw"
            ca_file = "\(certs.ca)"
            connect_timeout = "5s"

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["check-config", "--connect", "--config", config])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let imap = try #require(lines.first { $0.hasPrefix("mailbox support: FAILED") }, "\(r.stdout)")
        let smtp = try #require(lines.first { $0.hasPrefix("smtp: FAILED") }, "\(r.stdout)")
        for line in [imap, smtp] {
            #expect(line.contains("TLS failed"), "\(line)")
            #expect(line.range(of: expected, options: [.regularExpression, .caseInsensitive]) != nil, "\(kind): \(line)")
        }
    }
}
