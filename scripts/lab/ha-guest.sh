#!/bin/sh
# The HA WireGuard lab, inside the VM (busybox sh). `labctl lab ha` writes /test/ha.env and reads
# what this prints:
#   SCENARIO IMPL FAULT PEERS KEEPADDR NAT FAMILY a scenario starts
#   EVENT T WHO TEXT                       a timeline entry (T: seconds since boot)
#   PHASE T NAME                           fault, restore, end
#   PROBE … / GAP …                        from `labctl lab probe`, per client
#   LOG WHO TEXT                           a server's own log line, for the curious
# Topology: a bridge on the host side of the VM; namespaces A and B (the servers, eth0
# 2001:db8:1::3 and ::4, VIP ::2) and c1…cN (clients ::1xx), all with one shared WireGuard identity on
# the servers: wg1, 2001:db8:2::1/64, port 51800, as in the original write-up.
# The last NAT clients sit behind a router instead (namespace r: eth0 2001:db8:1::fe on the bridge,
# lan0 2001:db8:3::1 on a second bridge with those clients at 2001:db8:3::1xx). r masquerades
# their traffic to ports 20000-29999, so the servers see the NAT mapping as the endpoint, and only
# packets to that mapping reach the client.
# FAMILY 4 runs the same over IPv4 underneath (the tunnel stays IPv6): A 172.16.0.3, B .0.4, VIP
# .0.2/16, clients 172.16.1.N; r at 172.16.0.254 and 10.3.0.1/16, its clients at 10.3.1.N.
# HOST > 0: clients c1…cHOST run on the host instead (scripts/lab/ha-host.sh, wireguard-go, and a
# NAT router of its own with the same addresses), on the far side of the guest's eth0, which joins
# the bridge. The host made every key (/test/keys) and pings those clients itself; the guest's
# probe sends it the guest's clock, from the bridge's own address 2001:db8:1::fc (172.16.0.252 too
# on IPv4) to 2001:db8:1::fd port 51999.
set -u
. /test/ha.env
IP=/usr/sbin/ip
LAB=/etc/lab
W=/tmp/lab
mkdir -p $LAB $W
chmod 755 $LAB
echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group

now() { cut -d' ' -f1 /proc/uptime; }
event() { echo "EVENT $(now) $*"; }
inns() { ns=$1; shift; $IP netns exec "$ns" "$@"; }
# A setup step that must work: a half-built topology would show up as a tunnel that never works.
must() { "$@" || { echo "lab: '$*' failed"; exit 1; }; }
hex() { printf '%x' $((0x100 + $1)); }

umask 077
if [ -d /test/keys ]; then
    cp /test/keys/* $LAB/
else
    wg genkey > $LAB/server.key
    wg pubkey < $LAB/server.key > $LAB/server.pub
    labctl wg genpsk > $LAB/sync.key
fi
umask 022

# A timeline entry for every transition (labctl's notify), and the notify script of the original
# write-up with the same entry (keepalived's).
cat > $LAB/notify-log.sh <<'EOF'
#!/bin/sh
echo "EVENT $(cut -d' ' -f1 /proc/uptime) $(cat /etc/lab/whoami.$(readlink /proc/self/ns/net | tr -dc 0-9)) $3" >> /tmp/lab/timeline
EOF
cat > $LAB/notify.sh <<'EOF'
#!/bin/sh
/etc/lab/notify-log.sh "$@"
case $3 in
    MASTER) /usr/sbin/ip link set up dev wg1 ;;
    *) /usr/sbin/ip link set down dev wg1 ;;
esac
EOF
chmod 755 $LAB/notify.sh $LAB/notify-log.sh

clients_key() { [ -f $LAB/c$1.key ] || { (umask 077; wg genkey > $LAB/c$1.key); wg pubkey < $LAB/c$1.key > $LAB/c$1.pub; }; }

teardown() {
    for f in $W/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    killall -9 keepalived labctl 2>/dev/null
    sleep 0.2
    # The host ends of the veths first: deleting one removes its peer at once, while a deleted
    # namespace (and the veth names it holds) goes away only when the kernel gets to it.
    for link in $(ls /sys/class/net | grep '^v-'); do $IP link del "$link" 2>/dev/null; done
    for ns in $($IP netns list | cut -d' ' -f1); do $IP netns del "$ns"; done
    $IP link del br0 2>/dev/null
    $IP link del br1 2>/dev/null
    rm -f $W/*
}

# wg1 as wg-quick leaves it: key, port, peers, address, up, and a subnet behind the peers routed
# into the tunnel (as wg-quick routes a peer's allowed IPs). RESTORE: wg1 comes back under a
# running labctl backup, which may set it down first; the route then comes from its 'route'.
wg_up() {
    server=$1 restore=${2:-}
    must inns "$server" $IP link add wg1 type wireguard
    inns "$server" wg setconf wg1 $LAB/server.conf
    must inns "$server" $IP address add 2001:db8:2::1/64 dev wg1
    inns "$server" $IP link set wg1 up
    if [ -n "$restore" ]; then
        inns "$server" $IP -6 route add 2001:db8:9::/64 dev wg1 2>/dev/null
    else
        must inns "$server" $IP -6 route add 2001:db8:9::/64 dev wg1
    fi
}

vrrp_config() {
    server=$1 priority=$2
    if [ "$IMPL" = labctl ]; then
        cat <<EOF
vrrp_instance wg_v$FAMILY {
    interface eth0
    virtual_router_id 52
    notify $LAB/notify-log.sh
    state BACKUP
    priority $priority
    advert_int $ADVERT
    virtual_ipaddress {
        $VIP/$PLEN
    }
    wireguard {
        interface wg1
        route 2001:db8:9::/64
        sync_key $LAB/sync.key
    }
}
EOF
    else
        cat <<EOF
global_defs {
    enable_script_security
    script_user root
}
vrrp_script check_wg {
    script "/usr/bin/wg show wg1"
    user root
}
vrrp_instance wg_v$FAMILY {
    interface eth0
    virtual_router_id 52
    notify $LAB/notify.sh
    state BACKUP
    priority $priority
    advert_int $ADVERT
    virtual_ipaddress {
        $VIP/$PLEN
    }
    track_script {
        check_wg
    }
}
EOF
    fi
}

start_vrrp() {
    server=$1
    if [ "$IMPL" = labctl ]; then
        # Not through inns: $! must be the process itself (ip netns exec execs it), not a subshell.
        $IP netns exec "$server" labctl vrrp run -f $LAB/$server.conf --control $W/$server.sock --timestamps 2>> $W/$server.log &
    else
        rm -f $W/keepalived.$server.pid $W/keepalived-vrrp.$server.pid
        $IP netns exec "$server" keepalived -n -l -D -f $LAB/$server.conf -p $W/keepalived.$server.pid \
            -r $W/keepalived-vrrp.$server.pid >> $W/$server.log 2>&1 &
    fi
    echo $! > $W/vrrp.$server.pid
    event "$server" "$IMPL started"
}

kill_vrrp() {
    server=$1 signal=$2
    pid=$(cat $W/vrrp.$server.pid)
    [ "$IMPL" = keepalived ] && [ "$signal" = KILL ] && kill -KILL "$(cat $W/keepalived-vrrp.$server.pid 2>/dev/null)" 2>/dev/null
    kill -"$signal" "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    rm -f $W/vrrp.$server.pid
}

# The addresses of the segment the servers and clients share, for FAMILY 4 or 6.
underlay() {
    if [ "$FAMILY" = 4 ]; then
        PLEN=16 NODAD= VIP=172.16.0.2 A_ADDRESS=172.16.0.3 B_ADDRESS=172.16.0.4 ROUTER=172.16.0.254
        LAN_GATEWAY=10.3.0.1 VIP_ENDPOINT=172.16.0.2:51800
    else
        PLEN=64 NODAD=nodad VIP=2001:db8:1::2 A_ADDRESS=2001:db8:1::3 B_ADDRESS=2001:db8:1::4
        ROUTER=2001:db8:1::fe LAN_GATEWAY=2001:db8:3::1 VIP_ENDPOINT='[2001:db8:1::2]:51800'
    fi
}
segment_address() { if [ "$FAMILY" = 4 ]; then echo 172.16.1.$1; else echo 2001:db8:1::$(hex $1); fi; }
lan_address() { if [ "$FAMILY" = 4 ]; then echo 10.3.1.$1; else echo 2001:db8:3::$(hex $1); fi; }

behind_nat() { [ "$1" -gt $((PEERS - NAT)) ]; }
on_host() { [ "$1" -le "$HOST" ]; }

# The NAT router r between the bridge and the NAT clients' own segment (br1).
nat_router() {
    must $IP link add br1 type bridge
    $IP link set br1 up
    must $IP netns add r
    echo r > $LAB/whoami.$(inns r readlink /proc/self/ns/net | tr -dc 0-9)
    must $IP link add v-r type veth peer name eth0 netns r
    must $IP link set v-r master br0 up
    must $IP link add v-r-lan type veth peer name lan0 netns r
    must $IP link set v-r-lan master br1 up
    inns r sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
                  echo 1 > /proc/sys/net/ipv4/ip_forward'
    for dev in lo eth0 lan0; do inns r $IP link set $dev up; done
    must inns r $IP address add $ROUTER/$PLEN dev eth0 $NODAD
    must inns r $IP address add $LAN_GATEWAY/$PLEN dev lan0 $NODAD
    inns r nft -f /test/nat.nft || { echo "lab: the NAT router's nftables rules failed"; exit 1; }
}

# What the master SERVER has after a phase: its routes into the tunnel, and the endpoint of each
# NAT client (the router's mapping, whether synced or learnt).
master_state() {
    server=$1
    event "$server" "tunnel routes: $(inns "$server" $IP -6 route show dev wg1 2>/dev/null | cut -d' ' -f1 | sort | tr '\n' ' ')"
    inns "$server" wg show wg1 endpoints > $W/endpoints 2>/dev/null
    i=$((PEERS - NAT + 1))
    while [ $i -le "$PEERS" ]; do
        e=$(awk -v k="$(cat $LAB/c$i.pub)" '$1 == k {print $2}' $W/endpoints)
        event "$server" "endpoint of c$i: ${e:-none}"
        i=$((i + 1))
    done
    # The host routes that make the takeover's handshakes leave from the VIP (labctl, IPv4).
    for s in A B; do
        event "$s" "host routes: $(inns $s $IP route show proto 76 2>/dev/null | tr -s ' ' | sed 's/ $//' | tr '\n' ';')"
    done
    # Where a client on the segment sends now: the VIP, unless a server's handshake came from
    # another of its addresses and WireGuard roamed there.
    if [ "$PEERS" -gt "$NAT" ] && ! on_host 1; then event c1 "server endpoint: $(inns c1 wg show wg1 endpoints | cut -f2)"; fi
    if [ "$LOSE" = 1 ]; then event c1 "handshake replies dropped: $(inns c1 nft list table inet lose | awk '/counter/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')"; fi
}

setup() {
    must $IP link add br0 type bridge
    echo 0 > /sys/class/net/br0/bridge/multicast_snooping
    $IP link set br0 up
    if [ "$HOST" -gt 0 ]; then
        must $IP link set eth0 master br0 up
        must $IP address add 2001:db8:1::fc/64 dev br0 nodad
        [ "$FAMILY" = 4 ] && must $IP address add 172.16.0.252/16 dev br0
    fi
    # The NAT clients are the last ones: on the host (with a router there) or all here.
    [ "$NAT" -gt 0 ] && [ "$HOST" -lt "$PEERS" ] && nat_router
    : > $LAB/server.conf
    printf '[Interface]\nPrivateKey = %s\nListenPort = 51800\n' "$(cat $LAB/server.key)" > $LAB/server.conf
    # A persistent keepalive for the NAT clients and the odd ones: a takeover handshakes with
    # both kinds of peer in different ways (see WireGuardFailover.takeOver).
    i=1
    while [ $i -le "$PEERS" ]; do
        clients_key $i
        printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 2001:db8:2::%s/128\n' "$(cat $LAB/c$i.pub)" "$(hex $i)" >> $LAB/server.conf
        if behind_nat $i || [ $((i % 2)) = 1 ]; then echo 'PersistentKeepalive = 25' >> $LAB/server.conf; fi
        i=$((i + 1))
    done
    for ns in A B $(i=$((HOST + 1)); while [ $i -le "$PEERS" ]; do echo c$i; i=$((i + 1)); done); do
        must $IP netns add $ns
        echo "$ns" > $LAB/whoami.$(inns $ns readlink /proc/self/ns/net | tr -dc 0-9)
        must $IP link add v-$ns type veth peer name eth0 netns $ns
        segment=br0
        case $ns in c*) behind_nat ${ns#c} && segment=br1 ;; esac
        must $IP link set v-$ns master $segment up
        inns $ns sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
        if [ "$KEEPADDR" = 1 ]; then inns $ns sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/keep_addr_on_down'; fi
        inns $ns $IP link set lo up
        inns $ns $IP link set eth0 up
    done
    must inns A $IP address add $A_ADDRESS/$PLEN dev eth0 $NODAD
    must inns B $IP address add $B_ADDRESS/$PLEN dev eth0 $NODAD
    for server in A B; do wg_up $server; done
    vrrp_config A 250 > $LAB/A.conf
    vrrp_config B 240 > $LAB/B.conf
    i=$((HOST + 1))
    while [ $i -le "$PEERS" ]; do
        if behind_nat $i; then
            must inns c$i $IP address add "$(lan_address $i)/$PLEN" dev eth0 $NODAD
            must inns c$i $IP route add default via $LAN_GATEWAY
        else
            must inns c$i $IP address add "$(segment_address $i)/$PLEN" dev eth0 $NODAD
        fi
        must inns c$i $IP link add wg1 type wireguard
        inns c$i wg set wg1 private-key $LAB/c$i.key peer "$(cat $LAB/server.pub)" \
            endpoint "$VIP_ENDPOINT" allowed-ips 2001:db8:2::/64
        must inns c$i $IP address add 2001:db8:2::$(hex $i)/64 dev wg1
        inns c$i $IP link set wg1 up
        i=$((i + 1))
    done
}

# Until every client has a handshake, or LIMIT seconds. With clients on the host, by A's view.
wait_handshakes() {
    deadline=$(awk -v n="$(now)" -v l="$1" 'BEGIN { print n + l }')
    while awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n < d) }'; do
        if [ "$HOST" -gt 0 ]; then
            [ "$(inns A wg show wg1 latest-handshakes 2>/dev/null | awk '$2 != 0' | wc -l)" -ge "$PEERS" ] && return 0
            sleep 0.1
            continue
        fi
        missing=0 i=1
        while [ $i -le "$PEERS" ]; do
            h=$(inns c$i wg show wg1 latest-handshakes | awk '{print $2}')
            [ "${h:-0}" = 0 ] && { missing=1; break; }
            i=$((i + 1))
        done
        [ $missing = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

inject() {
    case $FAULT in
        wg-down) inns A $IP link del wg1 ;;
        link-down) inns A $IP link set eth0 down ;;
        crash) kill_vrrp A KILL; inns A $IP link del wg1 ;;
        stop) kill_vrrp A TERM ;;
    esac
}

# LOSE=1: c1 drops the next handshake reply it sends (WireGuard type 2, 92 bytes: a UDP length of
# 100), as if the reply had gone to the old master. The quota lets one such packet through its
# rule (140 bytes with IPv6, 120 with IPv4), so the rule drops one and then none.
lose_first_reply() {
    [ "$LOSE" = 1 ] || return 0
    inns c1 nft delete table inet lose 2>/dev/null
    inns c1 nft -f - <<'EOF' || { echo "lab: c1's rule to lose a handshake reply failed"; exit 1; }
table inet lose {
    chain out {
        type filter hook output priority 0; policy accept;
        udp length 100 @th,64,8 2 quota until 150 bytes counter drop
    }
}
EOF
}

# The fault under a watchdog. Once, in a fresh-clone `make test`, A's `ip link del wg1` never
# returned, and B could not take over either (it needs the RTNL lock too). After 60 s the watchdog
# prints the kernel's blocked tasks and ends the run, rather than leaving the VM to its time limit.
inject_watched() {
    inject &
    fault_pid=$!
    ( sleep 60
      kill -0 $fault_pid 2>/dev/null || exit 0
      event A "fault $FAULT still running after 60 s: the kernel's blocked tasks follow"
      echo w > /proc/sysrq-trigger
      dmesg | tail -n 80 | sed 's/^/KERN /'
      echo "lab: the fault command hung (scenario $IMPL:$FAULT:$PEERS)"
      echo "@@LABCTL-VM-EXIT 1"
      sync
      poweroff -f ) &
    watchdog_pid=$!
    wait $fault_pid
    kill $watchdog_pid 2>/dev/null
}

restore() {
    case $FAULT in
        wg-down) wg_up A restore ;;
        link-down) inns A $IP link set eth0 up; inns A $IP address add $A_ADDRESS/$PLEN dev eth0 $NODAD 2>/dev/null ;;
        crash) wg_up A restore; start_vrrp A ;;
        stop) start_vrrp A ;;
    esac
}

for scenario in $SCENARIOS; do
    IFS=: read -r IMPL FAULT PEERS KEEPADDR NAT FAMILY HOST LOSE <<EOF
$scenario
EOF
    NAT=${NAT:-0} FAMILY=${FAMILY:-6} HOST=${HOST:-0} LOSE=${LOSE:-0}
    underlay
    teardown
    echo "SCENARIO $IMPL $FAULT $PEERS $KEEPADDR $NAT $FAMILY $HOST $LOSE"
    setup
    : > $W/timeline
    start_vrrp A
    start_vrrp B
    clients=$(i=$((HOST + 1)); while [ $i -le "$PEERS" ]; do printf ' --netns c%s' $i; i=$((i + 1)); done)
    [ "$HOST" -gt 0 ] && clients="$clients --send-clock [2001:db8:1::fd]:51999"
    labctl lab probe --target 2001:db8:2::1 --interval "$INTERVAL" $clients > $W/probe.out 2>&1 &
    echo $! > $W/probe.pid
    wait_handshakes 20 || event lab "not every client has a handshake after 20 s"
    if [ "${DEBUG:-0}" = 1 ]; then
        mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
        echo 'module wireguard +p' > /sys/kernel/debug/dynamic_debug/control
        echo 8 > /proc/sys/kernel/printk
        dmesg -c > /dev/null
        ( while :; do
            echo "DBG $(now) c1 $(inns c1 wg show wg1 dump | tail -n 1 | cut -f3,5,6,7) | $(inns c1 $IP neigh show $VIP) | A $(inns A wg show wg1 dump 2>/dev/null | tail -n 1 | cut -f3,5,6,7) | B $(inns B wg show wg1 dump 2>/dev/null | tail -n 1 | cut -f3,5,6,7)"
            sleep 0.2
          done ) &
        echo $! > $W/debug.pid
    fi
    if [ "$IMPL" = labctl ]; then
        # An attacker on the segment claims c1 moved: the backup must refuse it (see LOG … rejected).
        # (From the guest's bridge address when c1 is on the host.)
        attacker=c1
        on_host 1 && attacker=
        ${attacker:+inns $attacker} labctl lab forge-sync --to $B_ADDRESS --peer "$(cat $LAB/c1.pub)" > /dev/null && event c1 "forged endpoint update sent to B"
    fi
    sleep "$SETTLE"
    if [ "$IMPL" = labctl ]; then wait_time=$RECOVERY; else wait_time=$BASELINE_RECOVERY; fi
    round=1 rounds=$ROUNDS
    # The baseline shows its flaw in one round; each of its phases waits BASELINE_RECOVERY.
    [ "$IMPL" = keepalived ] && rounds=1
    while [ $round -le "$rounds" ]; do
        echo "PHASE $(now) fault"
        event A "fault $FAULT"
        lose_first_reply
        inject_watched
        # How long the command took: deleting wg1 holds the kernel's RTNL lock, which every
        # netlink query of the servers then waits for.
        [ "$FAULT" = stop ] || event A "fault $FAULT done"
        sleep "$wait_time"
        master_state B
        echo "PHASE $(now) restore"
        event A "restored"
        lose_first_reply
        restore
        sleep "$wait_time"
        master_state A
        round=$((round + 1))
    done
    echo "PHASE $(now) end"
    kill -TERM "$(cat $W/probe.pid)"
    i=0
    while kill -0 "$(cat $W/probe.pid)" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    for server in A B; do [ -f $W/vrrp.$server.pid ] && kill_vrrp $server TERM; done
    cat $W/timeline
    cat $W/probe.out
    if [ "${DEBUG:-0}" = 1 ]; then dmesg | sed 's/^/KERN /'; fi
    for server in A B; do
        if [ "${DEBUG:-0}" = 1 ]; then sed "s/^/DBGLOG $server /" $W/$server.log; fi
        grep -E 'Entering|up:|handshakes? with|rejected|Monitor|error' $W/$server.log 2>/dev/null | sed "s/^/LOG $server /" | head -n 200
    done
done
teardown
echo "DONE"
