# Runs inside the VM, against the kernel's WireGuard: everything labctl sets, wg reads back
# exactly, and everything wg sets, labctl prints exactly as wg does. Fixtures are in /test/wg
# (written by WireGuardKernelTests): big.conf (5,000 peers), wide.conf (one peer, 100,000
# allowed IPs), small.conf, sync.conf, bad.conf; each *.conf is in `wg showconf` layout.
set -e
ip=/usr/sbin/ip
cd /test/wg
fail() { echo "FAIL: $*"; exit 1; }
same() {  # same NAME FILE1 FILE2
    cmp -s "$2" "$3" || { echo "FAIL: $1 differs"; diff "$2" "$3" | head -20; exit 1; }
    echo "ok: $1 (at $(cut -d" " -f1 /proc/uptime) s)"
}
echo "kernel: $(uname -r)"
$ip link add wg0 type wireguard
$ip link add wg1 type wireguard
$ip link add v0 type veth peer name v1
$ip link show wg0 | head -1

# Keys: labctl's pubkey is wg's.
k=$(labctl wg genkey); [ "$(echo "$k" | labctl wg pubkey)" = "$(echo "$k" | wg pubkey)" ] || fail pubkey
echo "ok: pubkey"

for conf in small big wide; do
    # labctl sets, wg reads back exactly what the file says.
    labctl wg setconf wg0 $conf.conf
    wg showconf wg0 > got.conf
    same "labctl setconf $conf, wg showconf" $conf.conf got.conf
    labctl wg showconf wg0 > got2.conf
    same "labctl showconf $conf" $conf.conf got2.conf
    # wg sets, labctl prints exactly what wg prints.
    wg setconf wg1 $conf.conf
    wg show wg1 dump > want.dump
    labctl wg show wg1 dump > got.dump
    same "wg setconf $conf, labctl show dump" want.dump got.dump
    fields="public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips latest-handshakes transfer persistent-keepalive"
    # One peer with 100,000 allowed IPs: the per-peer fields are all one line; allowed-ips is the one that matters.
    [ $conf = wide ] && fields="allowed-ips endpoints"
    for field in $fields; do
        wg show wg1 $field > want.txt; labctl wg show wg1 $field > got.txt
        cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "show $field ($conf)"; }
    done
    echo "ok: every show field ($conf)"
done
wg show all dump > want.dump; labctl wg show all dump > got.dump; same "show all dump" want.dump got.dump
wg show all endpoints > want.txt; labctl wg show all endpoints > got.txt; same "show all endpoints" want.txt got.txt
wg show interfaces > want.txt; labctl wg show interfaces > got.txt; same "show interfaces" want.txt got.txt
wg show wg1 > want.txt; labctl wg show wg1 > got.txt; same "human show" want.txt got.txt

# Back to the small device for the single changes.
labctl wg setconf wg0 small.conf
A=$(sed -n 's/^PublicKey = //p' small.conf | sed -n 1p)
B=$(sed -n 's/^PublicKey = //p' small.conf | sed -n 2p)
check() {  # after a change made by labctl on wg0, mirror it with wg on wg1 and compare
    wg show wg0 dump > a; wg show wg1 dump > b
    same "$1" a b
}
wg setconf wg1 small.conf

# IPv6 endpoint with a scope id (v0's index), shown by name.
labctl wg set wg0 peer "$A" endpoint '[fe80::1%v0]:51820'
wg set wg1 peer "$A" endpoint '[fe80::1%v0]:51820'
[ "$(wg show wg0 endpoints | grep "$A" | cut -f2)" = "[fe80::1%v0]:51820" ] || fail "scope id endpoint"
check "IPv6 endpoint with scope id"
labctl wg show wg0 dump > a; wg show wg0 dump > b; same "scope id in labctl dump" b a

# An allowed IP moved between peers.
moved=$(wg show wg0 allowed-ips | grep "$A" | cut -f2 | cut -d' ' -f1)
labctl wg set wg0 peer "$B" allowed-ips "$moved"
wg set wg1 peer "$B" allowed-ips "$moved"
wg show wg0 allowed-ips | grep "$A" | grep -q "$moved" && fail "allowed IP still on A"
check "allowed IP moved"

# Incremental allowed IPs (labctl extension): add one, remove one.
labctl wg set wg0 peer "$B" allowed-ips +10.99.0.0/16,+fd99::/64
labctl wg set wg0 peer "$B" allowed-ips -fd99::/64
[ "$(wg show wg0 allowed-ips | grep "$B" | cut -f2)" = "$moved 10.99.0.0/16" ] || { wg show wg0 allowed-ips; fail "incremental allowed IPs"; }
echo "ok: incremental allowed IPs"
wg set wg1 peer "$B" allowed-ips "$moved,10.99.0.0/16"
check "incremental mirrored"

# update-only never creates a peer; remove by key.
N=$(labctl wg genkey | labctl wg pubkey)
labctl wg set wg0 peer "$N" update-only allowed-ips 10.123.0.0/16
wg show wg0 peers | grep -q "$N" && fail "update-only created a peer"
echo "ok: update-only"
labctl wg set wg0 peer "$A" remove
wg set wg1 peer "$A" remove
wg show wg0 peers | grep -q "$A" && fail "peer not removed"
check "peer removed by key"

# Private-key removal.
labctl wg set wg0 private-key /dev/null
[ "$(wg show wg0 private-key)" = "(none)" ] || fail "private key not removed"
[ "$(labctl wg show wg0 private-key)" = "(none)" ] || fail "labctl shows a private key"
echo "ok: private key removed"

# syncconf removes runtime-only peers and keeps the rest.
wg set wg0 peer "$N" allowed-ips 10.77.0.0/16
labctl wg syncconf wg0 sync.conf
wg showconf wg0 > got.conf
same "syncconf" sync.conf got.conf

# addconf adds without replacing.
before=$(wg show wg0 peers | wc -l)
labctl wg addconf wg0 add.conf
[ "$(wg show wg0 peers | wc -l)" = "$((before + 1))" ] || fail "addconf"
echo "ok: addconf"

# Errors: one line, the file and line, nothing half-applied.
wg showconf wg0 > before.conf
if labctl wg setconf wg0 bad.conf 2> err.txt; then fail "bad.conf accepted"; fi
cat err.txt
grep -q "^labctl: error: bad.conf:7: " err.txt || fail "bad.conf error has no file:line"
wg showconf wg0 > after.conf
same "bad config applied nothing" before.conf after.conf
labctl wg show nosuch 2> err.txt && fail "nosuch"; cat err.txt
grep -qx "labctl: error: no such device: nosuch" err.txt || fail "no such device message"
labctl wg show v0 2> err.txt && fail "v0"; cat err.txt
grep -qx "labctl: error: v0 is not a WireGuard device" err.txt || fail "not a WireGuard device message"
echo "ok: errors"

# wg-quick's link work through rtnetlink: create, configure, address, MTU, up; then delete.
labctl wg up /test/wg/wgq0.conf
$ip -o link show wgq0 | grep -q "mtu 1380" || { $ip link show wgq0; fail "wg up: mtu"; }
$ip -o link show wgq0 | grep -q ",UP" || fail "wg up: not up"
$ip -o addr show dev wgq0 | grep -q "inet 10.9.0.1/24" || { $ip addr show dev wgq0; fail "wg up: IPv4 address"; }
$ip -o addr show dev wgq0 | grep -q "inet6 fd09::1/64" || { $ip addr show dev wgq0; fail "wg up: IPv6 address"; }
[ "$(wg show wgq0 listen-port)" = "51909" ] || fail "wg up: configuration"
labctl wg up /test/wg/wgq0.conf 2> err.txt && fail "second wg up"; cat err.txt
labctl wg down wgq0
$ip link show wgq0 2>/dev/null && fail "wg down left the link"
labctl wg down v0 2> err.txt && fail "wg down v0"; cat err.txt
echo "ok: wg up and down"
