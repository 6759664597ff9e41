import Testing
import VRRP

struct KeepalivedConfigTests {
    /// The configuration of the HA WireGuard write-up, as is.
    static let haWireGuard = """
        global_defs {
            enable_script_security
            script_user root
        }
        vrrp_script check_wg {
            script "/usr/bin/wg show wg1"
            user root
        }
        vrrp_instance wg_v6 {
            interface eno1
            virtual_router_id 52
            notify /usr/local/bin/keepalived-wg.sh
            state BACKUP
            priority 99
            virtual_ipaddress {
                2001:DB8:1::2/64
            }
            track_script {
                check_wg
            }
        }
        """

    @Test func theHAWireGuardConfigLoadsAsIs() throws {
        let config = try KeepalivedConfig.parse(Self.haWireGuard)
        #expect(config.global.enableScriptSecurity)
        #expect(config.global.scriptUser == "root")
        let script = try #require(config.scripts.first)
        #expect(script.name == "check_wg")
        #expect(script.command == ["/usr/bin/wg", "show", "wg1"])
        #expect(script.user == "root")
        #expect(script.interval == .seconds(1))
        let i = try #require(config.instances.first)
        #expect(i.name == "wg_v6")
        #expect(i.interface == "eno1")
        #expect(i.virtualRouterID == 52)
        #expect(i.priority == 99)
        #expect(i.state == .backup)
        #expect(i.version == .v3)  // IPv6 implies version 3
        #expect(i.virtualAddresses.map(\.description) == ["2001:db8:1::2/64"])
        #expect(i.notify == "/usr/local/bin/keepalived-wg.sh")
        #expect(i.trackScripts.map(\.name) == ["check_wg"])
        #expect(i.preempt)
    }

    @Test func everyInstanceKeyword() throws {
        let config = try KeepalivedConfig.parse("""
            global_defs { router_id lab-a }
            vrrp_script chk { script "/bin/true"  interval 2 }
            vrrp_script chk2 {
                script "/usr/bin/test -e '/run/a file'"
                interval 0.5
                timeout 3
                fall 2
                rise 3
                weight -20
                user nobody nogroup
            }
            vrrp_instance v4 {   # comment
                interface br0
                state MASTER
                virtual_router_id 7
                priority 150
                advert_int 0.01
                version 3
                nopreempt
                preempt_delay 5
                accept
                unicast_src_ip 192.0.2.1
                unicast_peer {
                    192.0.2.2
                    192.0.2.3
                }
                virtual_ipaddress {
                    192.0.2.100/24 dev br0 label br0:vip
                    192.0.2.101
                }
                track_script {
                    chk
                    chk2 weight 10
                }
                track_interface {
                    eth1 weight -50
                    eth2
                }
                notify "/etc/keepalived/notify.sh"
                notify_master /bin/echo master
                notify_backup /bin/echo backup
                notify_fault /bin/echo fault
                notify_stop /bin/echo stop
            }
            """)
        #expect(config.global.routerID == "lab-a")
        let chk2 = config.scripts[1]
        #expect(chk2.command == ["/usr/bin/test", "-e", "/run/a file"])
        #expect(chk2.interval == .centiseconds(50))
        #expect(chk2.timeout == .seconds(3))
        #expect(chk2.fall == 2 && chk2.rise == 3 && chk2.weight == -20)
        #expect(chk2.user == "nobody" && chk2.group == "nogroup")
        let i = config.instances[0]
        #expect(i.state == .master && i.virtualRouterID == 7 && i.priority == 150)
        #expect(i.advertisementInterval == .centiseconds(1))
        #expect(!i.preempt && i.preemptDelay == .seconds(5) && i.accept)
        #expect(i.unicastSource?.description == "192.0.2.1")
        #expect(i.unicastPeers.map(\.description) == ["192.0.2.2", "192.0.2.3"])
        #expect(i.virtualMAC == nil && i.vrrpInterface == "br0")
        #expect(i.virtualAddresses[0].device == "br0" && i.virtualAddresses[0].label == "br0:vip")
        #expect(i.virtualAddresses[1].description == "192.0.2.101/32")
        #expect(i.trackScripts.map(\.weight) == [nil, 10])
        #expect(i.trackInterfaces.map(\.name) == ["eth1", "eth2"])
        #expect(i.trackInterfaces[0].weight == -50)
        #expect(i.notifyMaster == "/bin/echo master" && i.notifyStop == "/bin/echo stop")
    }

    /// An IPv4 instance with no version set and `auth_pass PASS`.
    static func authenticatedInstance(password: String) throws -> KeepalivedConfig.Instance {
        try KeepalivedConfig.parse("""
            vrrp_instance a {
                interface eth0
                virtual_router_id 1
                authentication {
                    auth_type PASS
                    auth_pass \(password)
                }
                virtual_ipaddress { 10.0.0.1/8 }
            }
            """).instances[0]
    }

    @Test func schedulingKeywordsOfGlobalDefs() throws {
        let config = try KeepalivedConfig.parse("""
            global_defs {
                vrrp_rt_priority 50
                vrrp_rlimit_rttime 20000
                vrrp_priority -10
                vrrp_no_swap
            }
            """)
        #expect(config.global.realtimePriority == 50)
        #expect(config.global.realtimeCPULimit == Microseconds(20_000))
        #expect(config.global.niceValue == -10)
        #expect(config.global.lockMemory)
        let defaults = try KeepalivedConfig.parse("global_defs {\n}\n").global
        #expect(defaults.realtimePriority == nil && defaults.niceValue == nil && !defaults.lockMemory)
        #expect(defaults.realtimeCPULimit == Microseconds(10_000))
    }

    @Test func version2IsTheDefaultForIPv4AndCarriesAuthentication() throws {
        let instance = try Self.authenticatedInstance(password: "secret123456")
        #expect(instance.version == .v2)
        #expect(instance.authenticationPassword == Array("secret12".utf8))
    }

    @Test("auth_pass is cut to 8 bytes, even inside a multi-byte character (found by the fuzzer)")
    func authenticationPasswordCutInsideACharacter() throws {
        let instance = try Self.authenticatedInstance(password: "secret1ü")
        #expect(instance.authenticationPassword == Array("secret1".utf8) + [0xC3])
    }

    @Test func includeSplicesFilesRelativeToTheIncludingFile() throws {
        let access = KeepalivedFileAccess.memory([
            "/etc/keepalived/scripts.conf": "vrrp_script chk {\n script /bin/true\n}\n",
            "/etc/keepalived/vrrp.conf": "vrrp_instance x {\n interface e\n virtual_router_id 9\n include vips.conf\n track_script { chk }\n}\n",
            "/etc/keepalived/vips.conf": "virtual_ipaddress {\n 192.0.2.9\n}\n",
        ])
        let config = try KeepalivedConfig.parse("include scripts.conf\ninclude vrrp.conf\n", name: "/etc/keepalived/keepalived.conf", access: access)
        #expect(config.scripts.map(\.name) == ["chk"])
        #expect(config.instances[0].virtualAddresses.map(\.description) == ["192.0.2.9/32"])
    }

    /// Each bad input gives one line naming the file and line.
    @Test(arguments: [
        ("vrrp_instnace x {\n}\n", "keepalived.conf:1: unknown keyword 'vrrp_instnace' at the top level"),
        ("global_defs {\n  vrrp_rt_priority 100\n}\n", "keepalived.conf:2: vrrp_rt_priority '100' must be an integer from 1 to 99"),
        ("global_defs {\n  vrrp_priority -21\n}\n", "keepalived.conf:2: vrrp_priority '-21' must be an integer from -20 to 19"),
        ("global_defs {\n  vrrp_no_swap yes\n}\n", "keepalived.conf:2: vrrp_no_swap takes no value, got 'yes'"),
        ("global_defs {\n  enable_script_securty\n}\n", "keepalived.conf:2: unknown keyword 'enable_script_securty' in global_defs"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 256\n}\n", "keepalived.conf:3: virtual_router_id '256' must be an integer from 1 to 255"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress {\n 192.0.2.300\n }\n}\n", "keepalived.conf:5: '192.0.2.300' is not an IPv4 or IPv6 address"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n}\n", "keepalived.conf:1: vrrp_instance x has no virtual_ipaddress"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n track_script { nope }\n}\n", "keepalived.conf:5: track_script nope: no vrrp_script of that name"),
        ("vrrp_instance x {\n interface e\n", "keepalived.conf:1: '{' is never closed"),
        ("}\n", "keepalived.conf:1: '}' without a matching '{'"),
        ("vrrp_script s {\n script \"/bin/true\n}\n", "keepalived.conf:2: unterminated quoted string"),
        ("vrrp_script s {\n script relative.sh\n}\n", "keepalived.conf:2: script 'relative.sh' must start with an absolute path"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n advert_int 0.5\n virtual_ipaddress { 10.0.0.1 }\n}\n", "keepalived.conf:4: advert_int must be whole seconds with version 2"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n state SLAVE\n}\n", "keepalived.conf:4: state 'SLAVE' must be MASTER or BACKUP"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress {\n 10.0.0.1\n 2001:db8::1\n }\n}\n", "keepalived.conf:1: vrrp_instance x mixes IPv4 and IPv6 addresses (10.0.0.1/32 and 2001:db8::1/128)"),
        ("include missing.conf\n", "keepalived.conf:1: include missing.conf: no such file"),
        ("vrrp_instance x {\n priority 10 20\n}\n", "keepalived.conf:2: priority takes 1 value, got '10 20'"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n sync_key k\n }\n}\n", "keepalived.conf:6: sync_key 'k' must be an absolute path"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n }\n}\n", "keepalived.conf:5: wireguard has no interface"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n interface wg1\n sync_peer {\n 2001:db8::4\n }\n }\n}\n", "keepalived.conf:5: sync_peer 2001:db8::4 is not of the virtual addresses' family"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n interface wg1\n mtu 1420\n }\n}\n", "keepalived.conf:7: unknown keyword 'mtu' in wireguard"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n interface wg1\n route 10.1.3.0/23\n }\n}\n", "keepalived.conf:7: route '10.1.3.0/23' has bits set beyond its prefix length"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n virtual_ipaddress { 10.0.0.1 }\n wireguard {\n interface wg1\n route 10.1.0.0/33\n }\n}\n", "keepalived.conf:7: prefix length in '10.1.0.0/33' must be 0 to 32"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n use_vmac\n unicast_peer {\n 10.0.0.2\n }\n virtual_ipaddress { 10.0.0.1 }\n}\n", "keepalived.conf:4: use_vmac with unicast_peer needs vmac_xmit_base, which labctl does not support"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n use_vmac a/b\n virtual_ipaddress { 10.0.0.1 }\n}\n", "keepalived.conf:4: use_vmac: 'a/b' is not an interface name"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n use_vmac vmac-with-a-long-name\n virtual_ipaddress { 10.0.0.1 }\n}\n", "keepalived.conf:4: use_vmac: 'vmac-with-a-long-name' is not an interface name"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n use_vmac e\n virtual_ipaddress { 10.0.0.1 }\n}\n", "keepalived.conf:4: use_vmac: e is the instance's own interface"),
        ("vrrp_instance x {\n interface e\n virtual_router_id 5\n use_vmac v\n virtual_ipaddress { 10.0.0.1 }\n}\nvrrp_instance y {\n interface f\n virtual_router_id 6\n use_vmac v\n virtual_ipaddress { 10.0.0.2 }\n}\n", "keepalived.conf:7: use_vmac interface v is already used by the instance at keepalived.conf:1"),
    ])
    func errorsNameFileAndLine(text: String, message: String) {
        #expect(throws: KeepalivedConfigError.self) { try KeepalivedConfig.parse(text) }
        do { _ = try KeepalivedConfig.parse(text) } catch { #expect("\(error)" == message) }
    }

    @Test func useVmacNamesTheMacvlanAndItsMAC() throws {
        let config = try KeepalivedConfig.parse("""
            vrrp_instance v4 {
                interface eth0
                virtual_router_id 52
                use_vmac
                virtual_ipaddress { 192.0.2.100/24 }
            }
            vrrp_instance v6 {
                interface eth0
                virtual_router_id 52
                use_vmac vmac6
                virtual_ipaddress { 2001:db8:1::2/64 }
            }
            """)
        let (v4, v6) = (config.instances[0], config.instances[1])
        #expect(v4.virtualMAC == "" && v4.vrrpInterface == "vrrp.52")
        #expect(v4.virtualMACInterface?.address == [0x00, 0x00, 0x5E, 0x00, 0x01, 52])
        #expect(v4.virtualMACInterface?.addressText == "00:00:5e:00:01:34")
        #expect(v6.vrrpInterface == "vmac6")
        #expect(v6.virtualMACInterface?.addressText == "00:00:5e:00:02:34")
        #expect(VRRPVirtualMAC(virtualRouterID: 255, ipv6: false).interfaceName == "vrrp.255")
    }

    @Test func wireGuardBlock() throws {
        let config = try KeepalivedConfig.parse("""
            vrrp_instance wg_v6 {
                interface eth0
                virtual_router_id 52
                virtual_ipaddress {
                    2001:db8:1::2/64
                }
                wireguard {
                    interface wg1
                    address 2001:db8:2::1/64
                    route 2001:db8:5::/48
                    route 2001:db8:6:1::/64
                    sync_key /etc/labctl/wg1.sync
                    sync_port 51900
                    sync_peer {
                        2001:db8:1::4
                    }
                }
            }
            """)
        let wg = try #require(config.instances.first?.wireGuard)
        #expect(wg.interface == "wg1")
        #expect(wg.addresses.map(\.description) == ["2001:db8:2::1/64"])
        #expect(wg.routes.map(\.description) == ["2001:db8:5::/48", "2001:db8:6:1::/64"])
        #expect(wg.syncKeyFile == "/etc/labctl/wg1.sync")
        #expect(wg.syncPort == 51900)
        #expect(wg.syncPeers == [VRRPAddress(parsing: "2001:db8:1::4")!])
        #expect(wg.location.line == 7)
    }

    @Test func errorsInIncludedFilesNameThatFile() {
        let access = KeepalivedFileAccess.memory(["/k/bad.conf": "\n\nvrrp_script s {\n  interval x\n}\n"])
        do {
            _ = try KeepalivedConfig.parse("include bad.conf\n", name: "/k/keepalived.conf", access: access)
            Issue.record("parsed")
        } catch {
            #expect("\(error)" == "/k/bad.conf:4: interval 'x' must be a number of seconds")
        }
    }

    @Test func recursiveIncludeIsBounded() {
        let access = KeepalivedFileAccess.memory(["/k/loop.conf": "include loop.conf\n"])
        #expect(throws: KeepalivedConfigError.self) { try KeepalivedConfig.parse("include loop.conf", name: "/k/a.conf", access: access) }
    }
}
