import Foundation
import Testing

/// `labctl vrrp run --check`: configuration and script-security errors are one line with
/// FILE:LINE, before anything is touched.
@Suite struct VRRPRunCheckTests {
    static func config(script: String) -> String {
        """
        global_defs {
            enable_script_security
            script_user root
        }
        vrrp_script chk {
            script "\(script) --quiet"
        }
        vrrp_instance lo_v4 {
            interface lo
            virtual_router_id 9
            virtual_ipaddress {
                127.0.0.200/8
            }
            track_script {
                chk
            }
        }
        """
    }

    @Test func scriptWritableByOthersIsRefusedUnderScriptSecurity() throws {
        let scratch = try ScratchDirectory()
        let script = scratch.path + "/check.sh"
        try "#!/bin/sh\nexit 0\n".write(toFile: script, atomically: true, encoding: .utf8)
        let conf = scratch.path + "/keepalived.conf"
        try Self.config(script: script).write(toFile: conf, atomically: true, encoding: .utf8)

        chmod(script, 0o755)
        let ok = try labctl("vrrp", "run", "-f", conf, "--check")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "\(conf): 1 instance(s), 1 script(s): OK\n")

        chmod(script, 0o775)
        let groupWritable = try labctl("vrrp", "run", "-f", conf, "--check")
        #expect(groupWritable.status != 0)
        #expect(groupWritable.stderr == "labctl: error: \(conf):5: script \(script) is unsafe: \(script) is writable by its group (enable_script_security)\n")

        chmod(script, 0o755)
        chmod(scratch.path, 0o777)
        let dirWritable = try labctl("vrrp", "run", "-f", conf, "--check")
        #expect(dirWritable.stderr == "labctl: error: \(conf):5: script \(script) is unsafe: \(scratch.path) is writable by others (enable_script_security)\n")
    }

    @Test func configErrorsNameTheFileAndLine() throws {
        let scratch = try ScratchDirectory()
        let conf = scratch.path + "/keepalived.conf"
        try "vrrp_instance x {\n    interface lo\n    virtual_router_id 9\n    advert_int one\n}\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let r = try labctl("vrrp", "run", "-f", conf)
        #expect(r.status != 0)
        #expect(r.stderr == "labctl: error: \(conf):4: advert_int 'one' must be a number of seconds\n")
        let missing = try labctl("vrrp", "run", "-f", scratch.path + "/nope.conf")
        #expect(missing.stderr == "labctl: error: \(scratch.path)/nope.conf: No such file or directory\n")
        try "vrrp_instance x {\n    interface no-such-if0\n    virtual_router_id 9\n    virtual_ipaddress {\n        10.9.9.9\n    }\n}\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let noInterface = try labctl("vrrp", "run", "-f", conf, "--check")
        #expect(noInterface.stderr == "labctl: error: \(conf):1: vrrp_instance x: no interface no-such-if0\n")
    }

    @Test func statusWithoutASpeakerSaysSo() throws {
        let r = try labctl("vrrp", "status", "--control", "/tmp/labctl-no-such-speaker.sock")
        #expect(r.status != 0)
        #expect(r.stderr == "labctl: error: /tmp/labctl-no-such-speaker.sock: No such file or directory (is 'labctl vrrp run' running?)\n")
    }
}
