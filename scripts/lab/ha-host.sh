#!/usr/bin/env bash
# The HA lab's clients on the host, for `labctl lab ha --host-clients`: each one wireguard-go in a
# network namespace of its own, on a bridge with the tap that the VM's eth0 sits on, and the last
# NAT of them behind a NAT router of their own. Their Curve25519 work runs at the host's speed
# instead of on the VM's emulated CPUs, which are left to the servers.
#
# usage: scripts/lab/ha-host.sh up DIR PEERS HOST NAT FAMILY
#          Makes the keys of the servers and all PEERS clients in DIR (the guest takes them from
#          there), brings up clients c1…cHOST on the host (those after PEERS-NAT behind the
#          router), and starts `labctl lab probe` over them.
#        scripts/lab/ha-host.sh down DIR
#          Stops the probe, prints its report (in the guest's clock), and removes everything.
# Needs root. $LABCTL names the labctl binary (default: labctl on PATH).
# Names: namespace labha-h holds the bridge (2001:db8:1::fd, where the guest's probe sends its
# clock to port 51999) and the tap labha-tap; client N is namespace labha-cN with eth0 and
# wireguard-go's labha-wN. The router is namespace labha-r: eth0 on the bridge, lan0 on the NAT
# clients' bridge hlan (in labha-h), masquerading them to UDP ports 20000-29999. Addresses follow
# scripts/lab/ha-guest.sh.
set -euo pipefail
labctl=${LABCTL:-labctl}
hub=labha-h
tap=labha-tap
clock_port=51999

hex() { printf '%x' $((0x100 + $1)); }

# Everything an earlier run may have left, without a word.
clean() {
    local dir=$1
    for f in "$dir"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    pkill -9 -f '^wireguard-go -f labha-w' 2>/dev/null || true
    for ns in $(ip netns list | cut -d' ' -f1 | grep -E '^labha-(h|r|c[0-9]+)$'); do ip netns del "$ns"; done
    rm -f /var/run/wireguard/labha-w*.sock
}

# The NAT router between the bridge and hlan, as the guest's router r.
nat_router() {
    local family=$1 router=2001:db8:1::fe/64 gateway=2001:db8:3::1/64 nodad=nodad
    [ "$family" = 4 ] && router=172.16.0.254/16 gateway=10.3.0.1/16 nodad=
    ip netns add labha-r
    ip -n $hub link add hlan type bridge
    echo 0 | ip netns exec $hub tee /sys/class/net/hlan/bridge/multicast_snooping > /dev/null
    ip -n $hub link set hlan up
    ip -n $hub link add labha-vr type veth peer name eth0 netns labha-r
    ip -n $hub link set labha-vr master hbr up
    ip -n $hub link add labha-vrl type veth peer name lan0 netns labha-r
    ip -n $hub link set labha-vrl master hlan up
    ip netns exec labha-r sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding; echo 1 > /proc/sys/net/ipv4/ip_forward'
    for dev in lo eth0 lan0; do ip -n labha-r link set $dev up; done
    ip -n labha-r address add $router dev eth0 $nodad
    ip -n labha-r address add $gateway dev lan0 $nodad
    ip netns exec labha-r nft -f "$(dirname "$0")/nat.nft"
}

up() {
    local dir=$1 peers=$2 host=$3 nat=$4 family=$5
    clean "$dir"
    mkdir -p -m 700 "$dir"
    (umask 077
     wg genkey > "$dir/server.key"
     wg genpsk > "$dir/sync.key"
     for i in $(seq 1 "$peers"); do wg genkey > "$dir/c$i.key"; done)
    wg pubkey < "$dir/server.key" > "$dir/server.pub"
    for i in $(seq 1 "$peers"); do wg pubkey < "$dir/c$i.key" > "$dir/c$i.pub"; done
    local endpoint='[2001:db8:1::2]:51800'
    [ "$family" = 4 ] && endpoint=172.16.0.2:51800

    ip netns add $hub
    ip -n $hub link set lo up
    ip -n $hub link add hbr type bridge
    echo 0 | ip netns exec $hub tee /sys/class/net/hbr/bridge/multicast_snooping > /dev/null
    ip -n $hub link set hbr up
    ip -n $hub address add 2001:db8:1::fd/64 dev hbr nodad
    ip -n $hub tuntap add dev $tap mode tap
    ip -n $hub link set $tap master hbr up
    [ "$nat" -gt 0 ] && nat_router "$family"

    local probed=()
    for i in $(seq 1 "$host"); do
        local ns=labha-c$i wg=labha-w$i segment=hbr natted=
        [ "$i" -gt $((peers - nat)) ] && segment=hlan natted=1
        ip netns add "$ns"
        ip link add "labha-v$i" type veth peer name eth0 netns "$ns"
        ip link set "labha-v$i" netns $hub
        ip -n $hub link set "labha-v$i" master $segment up
        ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        if [ -n "$natted" ] && [ "$family" = 4 ]; then
            ip -n "$ns" address add "10.3.1.$i/16" dev eth0
            ip -n "$ns" route add default via 10.3.0.1
        elif [ -n "$natted" ]; then
            ip -n "$ns" address add "2001:db8:3::$(hex "$i")/64" dev eth0 nodad
            ip -n "$ns" route add default via 2001:db8:3::1
        elif [ "$family" = 4 ]; then
            ip -n "$ns" address add "172.16.1.$i/16" dev eth0
        else
            ip -n "$ns" address add "2001:db8:1::$(hex "$i")/64" dev eth0 nodad
        fi
        ip netns exec "$ns" wireguard-go -f "$wg" > "$dir/$wg.log" 2>&1 &
        echo $! > "$dir/$wg.pid"
        local n=0
        until [ -S "/var/run/wireguard/$wg.sock" ]; do
            n=$((n + 1))
            [ $n -le 100 ] || { echo "ha-host: wireguard-go $wg did not start: $(tail -n 3 "$dir/$wg.log")" >&2; exit 1; }
            sleep 0.05
        done
        wg set "$wg" private-key "$dir/c$i.key" peer "$(cat "$dir/server.pub")" endpoint "$endpoint" allowed-ips 2001:db8:2::/64
        ip -n "$ns" address add "2001:db8:2::$(hex "$i")/64" dev "$wg"
        ip -n "$ns" link set "$wg" up
        probed+=(--netns "$ns")
    done
    # Not through a subshell: $! must be the probe itself (ip netns exec execs it).
    ip netns exec $hub "$labctl" lab probe --target 2001:db8:2::1 --interval 0.1 --clock-port $clock_port "${probed[@]}" \
        > "$dir/probe.out" 2>&1 &
    echo $! > "$dir/probe.pid"
}

down() {
    local dir=$1
    if [ -f "$dir/probe.pid" ]; then
        local pid n=0
        pid=$(cat "$dir/probe.pid")
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        rm -f "$dir/probe.pid"
        # The guest calls client N cN; so does the report.
        sed 's/ labha-c\([0-9]*\) / c\1 /' "$dir/probe.out"
    fi
    clean "$dir"
    rm -rf "$dir"
}

case ${1:-} in
    up) [ $# -eq 6 ] || { echo "usage: $0 up DIR PEERS HOST NAT FAMILY" >&2; exit 2; }; up "$2" "$3" "$4" "$5" "$6" ;;
    down) [ $# -eq 2 ] || { echo "usage: $0 down DIR" >&2; exit 2; }; down "$2" ;;
    *) echo "usage: $0 up DIR PEERS HOST NAT FAMILY | down DIR" >&2; exit 2 ;;
esac
