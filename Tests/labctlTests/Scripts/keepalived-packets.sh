#!/usr/bin/env bash
# Runs keepalived (Debian's) as master of three virtual routers (v3 IPv4, v3 IPv6, v2 IPv4) in a
# network namespace, captures its advertisements with tshark, and decodes each one with
# `labctl vrrp decode`. Everything it starts, it stops. usage: keepalived-packets.sh LABCTL
set -euo pipefail
labctl=$1
ns=labctl-kp-$$
work=$(mktemp -d /tmp/labctl-kp.XXXXXX)
cleanup() {
    [ -f "$work/keepalived.pid" ] && kill "$(cat "$work/keepalived.pid")" 2>/dev/null || true
    pkill -f "keepalived.*$work/" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add k0 type veth peer name k1
ip -n "$ns" link set k0 up
ip -n "$ns" link set k1 up
ip -n "$ns" addr add 192.0.2.1/24 dev k0
ip -n "$ns" -6 addr add 2001:db8::1/64 dev k0 nodad
cat > "$work/keepalived.conf" <<CONF
global_defs {
    router_id labctl-test
}
vrrp_instance v3v4 {
    interface k0
    state MASTER
    virtual_router_id 52
    priority 200
    advert_int 1
    version 3
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance v3v6 {
    interface k0
    state MASTER
    virtual_router_id 53
    priority 150
    advert_int 1
    version 3
    virtual_ipaddress {
        2001:db8:1::2/64
    }
}
vrrp_instance v2v4 {
    interface k0
    state MASTER
    virtual_router_id 54
    priority 120
    advert_int 2
    version 2
    virtual_ipaddress {
        192.0.2.101/24
    }
}
CONF
ip netns exec "$ns" timeout 20 tshark -q -i k1 -c 12 -w "$work/capture.pcap" -f "ip proto 112 or ip6 proto 112" 2>/dev/null &
capture=$!
sleep 2  # tshark must be listening before the first advertisement
ip netns exec "$ns" keepalived -n -l -D -f "$work/keepalived.conf" -p "$work/keepalived.pid" \
    -r "$work/vrrp.pid" > "$work/keepalived.log" 2>&1 &
wait "$capture" || true
count=$(tshark -r "$work/capture.pcap" 2>/dev/null | wc -l)
echo "captured $count"
for i in $(seq 1 "$count"); do
    hex=$(tshark -r "$work/capture.pcap" -Y "frame.number==$i" -x 2>/dev/null | cut -c7-54 | tr -d ' \n')
    echo "--- packet $i"
    "$labctl" vrrp decode "${hex:28}" --json  # drop the 14-byte Ethernet header
done
echo "--- pcap"
"$labctl" vrrp decode --pcap "$work/capture.pcap" --json
