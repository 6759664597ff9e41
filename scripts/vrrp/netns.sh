# Shared by the VRRP namespace tests and benchmarks: a bridge in namespace hub joins namespaces
# a, b, c and d by veth pairs (e0 in each, 192.0.2.1-4/24 and 2001:db8::1-4/64, no DAD).
# The caller sets labctl, tag and work, then sources this file. Everything started through these
# functions is stopped by the EXIT trap.
ns() { echo "$tag-$1"; }

cleanup() {
    for pidfile in "$work"/*.pid; do [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null; done
    pkill -9 -f "keepalived.*$work/" 2>/dev/null
    pkill -9 -f "labctl vrrp run -f $work/" 2>/dev/null
    pkill -9 -f "ip -n $tag-.* monitor" 2>/dev/null
    for n in a b c d hub; do ip netns del "$(ns $n)" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

now() { echo "$EPOCHREALTIME"; }  # a builtin: no process to start on a busy machine
result() { echo "RESULT $1 $2"; }

topology() {
    for n in hub a b c d; do ip netns add "$(ns $n)"; ip -n "$(ns $n)" link set lo up; done
    ip -n "$(ns hub)" link add br0 type bridge
    ip -n "$(ns hub)" link set br0 up
    i=1
    for n in a b c d; do
        ip link add e0 netns "$(ns $n)" type veth peer name p$n netns "$(ns hub)"
        ip netns exec "$(ns $n)" sysctl -qw net.ipv6.conf.e0.accept_dad=0
        ip -n "$(ns hub)" link set p$n master br0 up
        ip -n "$(ns $n)" link set e0 up
        ip -n "$(ns $n)" addr add 192.0.2.$i/24 dev e0
        ip -n "$(ns $n)" addr add 2001:db8::$i/64 dev e0 nodad
        i=$((i + 1))
    done
}

# vip FAMILY: the virtual address with its prefix, as keepalived.conf and `ip addr` write it.
vip() { if [ "$1" = 6 ]; then echo 2001:db8:1::2/64; else echo 192.0.2.100/24; fi; }

# config NAME FAMILY PRIORITY INTERVAL [EXTRA...]: one instance, VRID 52 (IPv4) or 53 (IPv6).
# With the array global_defs set, its lines go into a global_defs block.
config() {
    local name=$1 family=$2 priority=$3 interval=$4; shift 4
    local vrid=52
    [ "$family" = 6 ] && vrid=53
    {
        if [ -n "${global_defs:-}" ]; then
            echo "global_defs {"
            printf '    %s\n' "${global_defs[@]}"
            echo "}"
        fi
        echo "vrrp_instance vi_$family {"
        echo "    interface e0"
        echo "    state BACKUP"
        echo "    virtual_router_id $vrid"
        echo "    priority $priority"
        echo "    advert_int $interval"
        echo "    version 3"
        for line in "$@"; do echo "    $line"; done
        echo "    virtual_ipaddress {"
        echo "        $(vip "$family")"
        echo "    }"
        echo "}"
    } > "$work/$name.conf"
}

# start_labctl NAME [NS=a], start_keepalived NAME [NS=b]: run $work/NAME.conf in the namespace.
start_labctl() {
    local n=${2:-a}
    ip netns exec "$(ns $n)" "$labctl" vrrp run -f "$work/$1.conf" --control "$work/$n.sock" >> "$work/labctl.log" 2>&1 &
    echo $! > "$work/labctl.$n.pid"
}
start_keepalived() {
    local n=${2:-b}
    ip netns exec "$(ns $n)" keepalived -n -l -D -f "$work/$1.conf" -p "$work/keepalived.$n.pid" -r "$work/keepalived-vrrp.$n.pid" \
        >> "$work/keepalived.log" 2>&1 &
    echo $! > "$work/keepalived-main.$n.pid"
}
# stop labctl|keepalived SIGNAL [NS]: signals it and waits until it is gone.
stop() {
    local n=${3:-} pid
    if [ "$1" = labctl ]; then n=${n:-a}; pid=$(cat "$work/labctl.$n.pid"); else n=${n:-b}; pid=$(cat "$work/keepalived-main.$n.pid"); fi
    if [ "$1" = keepalived ] && [ "$2" = KILL ]; then
        # SIGKILL the VRRP child too: a killed keepalived sends nothing.
        kill -KILL "$(cat "$work/keepalived-vrrp.$n.pid")" 2>/dev/null
    fi
    kill -"$2" "$pid" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$work/$1.$n.pid" "$work/$1-main.$n.pid" "$work/$1-vrrp.$n.pid"
}
has_vip() {  # NAMESPACE FAMILY [DEVICE=e0]
    ip -n "$(ns $1)" -"$2" addr show dev "${3:-e0}" 2>/dev/null | grep -q "$(vip "$2")"
}
# wait_vip NAMESPACE FAMILY TIMEOUT [DEVICE=e0]: seconds until the VIP is there, or "timeout".
wait_vip() {
    local start end
    start=$(now)
    end=$(echo "$start + $3" | bc)
    while (( $(echo "$(now) < $end" | bc) )); do
        if has_vip "$1" "$2" "${4:-e0}"; then echo "$(now) - $start" | bc; return; fi
        sleep 0.01
    done
    echo timeout
}
# watch_vip NAMESPACE: from now on, the kernel's address events in NAMESPACE go to
# $work/addr-events.NAMESPACE, stamped by an `ip monitor` that runs real-time, so that a loaded
# machine delays neither the stamp nor, as polling with `ip addr` would, the measurement.
# Returns once the monitor is listening (a probe address on lo has shown up).
watch_vip() {
    local events="$work/addr-events.$1"
    : > "$events"
    # $! is the monitor itself: chrt execs ip, and `ip -n` switches namespace without forking.
    chrt -f 50 ip -n "$(ns $1)" -ts monitor address < /dev/null >> "$events" 2>/dev/null &
    echo $! > "$work/watch.$1.pid"
    for _ in $(seq 1 100); do
        ip -n "$(ns $1)" addr add 198.51.100.1/32 dev lo
        sleep 0.02
        ip -n "$(ns $1)" addr del 198.51.100.1/32 dev lo
        grep -q "198.51.100.1/32" "$events" && return
    done
    echo "watch_vip: ip monitor in $1 saw nothing" >&2
}
# vip_added NAMESPACE FAMILY T0 TIMEOUT [DEVICE=e0]: seconds from T0 (a `now`) to the event that
# added the VIP to DEVICE, or "timeout"; then stops the watch that watch_vip started.
vip_added() {
    local events="$work/addr-events.$1" inet=inet line="" end
    [ "$2" = 6 ] && inet=inet6
    end=$(echo "$(now) + $4" | bc)
    while (( $(echo "$(now) < $end" | bc) )); do
        line=$(grep -m1 -E "^\[[^]]*\] [0-9]+: ${5:-e0} +$inet $(vip "$2")" "$events") && break
        sleep 0.01
    done
    kill -KILL "$(cat "$work/watch.$1.pid")" 2>/dev/null  # under the test runner SIGTERM arrives blocked
    rm -f "$work/watch.$1.pid"
    # The stamp is local time: [2026-11-23T02:48:19.808759]
    [ -n "$line" ] && echo "$(date -d "${line:1:26}" +%s.%N) - $3" | bc || echo timeout
}
labctl_state() { "$labctl" vrrp status --json --control "$work/${1:-a}.sock" 2>/dev/null | grep -o '"state" : "[A-Z]*"' | head -1 | cut -d'"' -f4; }
drop_vips() { for n in a b; do ip -n "$(ns $n)" addr flush dev e0 label e0 to 192.0.2.100/32 2>/dev/null; ip -n "$(ns $n)" -6 addr del 2001:db8:1::2/64 dev e0 2>/dev/null; done; true; }

