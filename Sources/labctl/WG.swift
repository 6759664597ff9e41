import ArgumentParser
import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

struct WG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wg",
        abstract: "WireGuard keys and configuration, compatible with wg(8).",
        discussion: """
            Examples:
              labctl wg genkey > private.key
              labctl wg pubkey < private.key
              labctl wg genpsk
              labctl wg show wg0 dump
              labctl wg set wg0 peer KEY allowed-ips 10.0.0.2/32
              labctl wg syncconf wg0 wg0.conf
            """,
        subcommands: [GenKey.self, PubKey.self, GenPSK.self, Show.self, ShowConf.self, Set.self,
                      SetConf.self, AddConf.self, SyncConf.self, Strip.self, Up.self, Down.self]
    )

    struct GenKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "genkey",
            abstract: "Print a new private key (base64), like wg genkey.",
            discussion: "Example:\n  umask 077; labctl wg genkey > private.key")

        func run() throws {
            warnIfWorldAccessible()
            print(KeyGeneration.privateKey().base64)
        }
    }

    struct GenPSK: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "genpsk",
            abstract: "Print a new preshared key (base64), like wg genpsk.",
            discussion: "Example:\n  labctl wg genpsk > peer.psk")

        func run() throws {
            warnIfWorldAccessible()
            print(KeyGeneration.presharedKey().base64)
        }
    }

    struct PubKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pubkey",
            abstract: "Read a private key on stdin and print its public key, like wg pubkey.",
            discussion: "Example:\n  labctl wg genkey | labctl wg pubkey")

        func run() throws {
            let input = StandardInput.readAll()
            // Like wg: exactly 44 characters, then nothing but white space.
            guard input.count >= 44 else { throw LabError("key is not the correct length or format") }
            let trailing = input[44...]
            guard trailing.allSatisfy({ $0 == 0x20 || (0x09...0x0d).contains($0) }) else {
                throw LabError("trailing characters found after key")
            }
            guard let key = Key(base64: String(decoding: input[0..<44], as: UTF8.self), secret: true) else {
                throw LabError("key is not the correct length or format")
            }
            print(KeyGeneration.publicKey(for: key).base64)
        }
    }
}

/// wg's warning when a key is written to a regular file that others can read.
private func warnIfWorldAccessible() {
    var st = stat()
    guard fstat(1, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & S_IRWXO != 0 else { return }
    StandardError.write("Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n")
}
