#!/usr/bin/env bash
# labctl's VRRP speaker against keepalived (Debian's) in network namespaces: three namespaces
# (a: labctl, b: keepalived, c: observer with tshark) joined by veth pairs to a bridge in a
# fourth. Each scenario prints `RESULT name value` lines; the Swift test asserts on them.
# Everything started here is stopped here. usage: vrrp-keepalived.sh LABCTL
set -uo pipefail
labctl=$1
tag=lv$$
work=$(mktemp -d /tmp/labctl-vrrp.XXXXXX)
source "$(dirname "$0")/../../../scripts/vrrp/netns.sh"
topology

# --- notify script: appends its arguments, one call per line.
cat > "$work/notify.sh" <<'SH'
#!/bin/sh
echo "$*" >> "$(dirname "$0")/notify.log"
SH
chmod 755 "$work/notify.sh"
# Records its own scheduling policy and real-time priority.
cat > "$work/sched.sh" <<'SH'
#!/bin/sh
awk '{print $41 "/" $40}' /proc/$$/stat >> "$(dirname "$0")/sched.log"
SH
chmod 755 "$work/sched.sh"

for family in 4 6; do
    drop_vips
    # 1. labctl higher: it wins the election; keepalived stays backup.
    config labctl-high "$family" 150 0.1 "notify $work/notify.sh" "notify_master \"$work/notify.sh master-only\""
    config keepalived-low "$family" 100 0.1
    : > "$work/notify.log"
    start_keepalived keepalived-low
    start_labctl labctl-high
    result "v$family.election.labctl_vip" "$(wait_vip a "$family" 3)"
    sleep 0.5
    result "v$family.election.labctl_state" "$(labctl_state)"
    has_vip b "$family" && result "v$family.election.keepalived_vip" yes || result "v$family.election.keepalived_vip" no
    # tshark in c decodes labctl's advertisements and checks their checksums.
    ip netns exec "$(ns c)" timeout 3 tshark -q -i e0 -c 5 -w "$work/v$family.pcap" -f "ip proto 112 or ip6 proto 112" 2>/dev/null
    result "v$family.tshark" "$(tshark -r "$work/v$family.pcap" -T fields -e vrrp.prio -e vrrp.checksum.status -e vrrp.ip_addr -e vrrp.ipv6_addr 2>/dev/null | sort -u | tr '\t\n' ',;')"

    # 2. SIGTERM: labctl sends priority 0 and removes its VIP; keepalived takes over after Skew_Time.
    watch_vip b
    t0=$(now)
    stop labctl TERM &
    stopper=$!
    result "v$family.sigterm.keepalived_vip" "$(vip_added b "$family" "$t0" 3)"
    wait "$stopper"
    has_vip a "$family" && result "v$family.sigterm.labctl_kept_vip" yes || result "v$family.sigterm.labctl_kept_vip" no
    result "v$family.notify" "$(tr '\n' ';' < "$work/notify.log")"

    # 3. Preemption: labctl (higher) comes back and takes over from keepalived.
    start_labctl labctl-high
    result "v$family.preempt.labctl_vip" "$(wait_vip a "$family" 3)"
    sleep 0.3
    has_vip b "$family" && result "v$family.preempt.keepalived_vip" yes || result "v$family.preempt.keepalived_vip" no

    # 4. SIGKILL: labctl dies silently; keepalived (priority 100) takes over within Master_Down_Interval.
    watch_vip b
    t0=$(now)
    stop labctl KILL
    result "v$family.sigkill.keepalived_takeover" "$(vip_added b "$family" "$t0" 3)"
    stop keepalived TERM
    drop_vips

    # 5. keepalived higher, labctl lower: keepalived wins; SIGKILL keepalived, labctl (priority 50)
    #    takes over within its Master_Down_Interval (0.3 + 0.1 × 206/256 = 0.380 s).
    #    It runs real-time (vrrp_rt_priority), and its notify script does not.
    global_defs=("vrrp_rt_priority 40" "vrrp_no_swap")
    config labctl-low "$family" 50 0.1 "notify_master $work/sched.sh"
    unset global_defs
    config keepalived-high "$family" 200 0.1
    start_keepalived keepalived-high
    result "v$family.low.keepalived_vip" "$(wait_vip b "$family" 3)"
    : > "$work/sched.log"
    start_labctl labctl-low
    sleep 1
    # If it died (a real-time budget overrun is a SIGKILL), the test shows its last words.
    kill -0 "$(cat "$work/labctl.a.pid")" 2>/dev/null && result "v$family.low.labctl_running" yes \
        || result "v$family.low.labctl_running" "no; its log ends: $(tail -n 3 "$work/labctl.log" | tr '\n' ' ')"
    result "v$family.low.labctl_state" "$(labctl_state)"
    # /proc/PID/stat fields 40 and 41: rt_priority and policy (2 is SCHED_RR).
    result "v$family.low.labctl_scheduling" "$(awk '{print $41 "/" $40}' "/proc/$(cat "$work/labctl.a.pid")/stat")"
    watch_vip a
    t0=$(now)
    stop keepalived KILL
    result "v$family.low.labctl_takeover" "$(vip_added a "$family" "$t0" 3)"
    # keepalived returns at a higher priority and preempts labctl.
    drop_vips
    start_keepalived keepalived-high
    result "v$family.low.keepalived_preempts" "$(wait_vip b "$family" 3)"
    sleep 0.3
    has_vip a "$family" && result "v$family.low.labctl_vip_after_preempt" yes || result "v$family.low.labctl_vip_after_preempt" no
    result "v$family.low.notify_scheduling" "$(tr '\n' ';' < "$work/sched.log")"
    stop labctl TERM
    stop keepalived TERM
    drop_vips
done

# 6. nopreempt: keepalived (lower) is master; labctl (higher, nopreempt) stays backup.
config labctl-nopreempt 4 150 0.1 nopreempt
config keepalived-low 4 100 0.1
start_keepalived keepalived-low
result "nopreempt.keepalived_vip" "$(wait_vip b 4 3)"
start_labctl labctl-nopreempt
sleep 1.5
result "nopreempt.labctl_state" "$(labctl_state)"
has_vip a 4 && result "nopreempt.labctl_vip" yes || result "nopreempt.labctl_vip" no
# When keepalived goes, the nopreempt router still takes over.
watch_vip a
t0=$(now)
stop keepalived TERM
result "nopreempt.labctl_takeover" "$(vip_added a 4 "$t0" 3)"
stop labctl TERM
drop_vips

# 7. track_script: while the check fails, labctl is in FAULT and keepalived holds the VIP.
touch "$work/healthy"
config labctl-tracked 4 150 0.1 "track_script {" "    chk" "}" "notify $work/notify.sh"
{ echo "vrrp_script chk {"; echo "    script \"/usr/bin/test -e $work/healthy\""; echo "    interval 0.1"; echo "}"; cat "$work/labctl-tracked.conf"; } > "$work/t.conf"
mv "$work/t.conf" "$work/labctl-tracked.conf"
config keepalived-low 4 100 0.1
: > "$work/notify.log"
start_keepalived keepalived-low
start_labctl labctl-tracked
result "track.labctl_vip" "$(wait_vip a 4 3)"
watch_vip b
t0=$(now)
rm "$work/healthy"
result "track.keepalived_vip_after_failure" "$(vip_added b 4 "$t0" 3)"
result "track.labctl_state_failed" "$(labctl_state)"
touch "$work/healthy"
result "track.labctl_vip_after_recovery" "$(wait_vip a 4 3)"
# Notify scripts run beside the state change: the VIP can be up before the last line is written.
for _ in $(seq 30); do [ "$(wc -l < "$work/notify.log")" -ge 5 ] && break; sleep 0.1; done
result "track.notify" "$(tr '\n' ';' < "$work/notify.log")"
stop labctl TERM
stop keepalived TERM
drop_vips

# 8. Unicast peers instead of multicast.
config labctl-unicast 4 150 0.1 "unicast_src_ip 192.0.2.1" "unicast_peer {" "    192.0.2.2" "}"
config keepalived-unicast 4 100 0.1 "unicast_src_ip 192.0.2.2" "unicast_peer {" "    192.0.2.1" "}"
start_keepalived keepalived-unicast
start_labctl labctl-unicast
result "unicast.labctl_vip" "$(wait_vip a 4 3)"
sleep 0.3
has_vip b 4 && result "unicast.keepalived_vip" yes || result "unicast.keepalived_vip" no
watch_vip b
t0=$(now)
stop labctl TERM &
stopper=$!
result "unicast.sigterm.keepalived_vip" "$(vip_added b 4 "$t0" 3)"
wait "$stopper"
stop keepalived TERM
# 9. use_vmac on both sides: the VIP lives on a macvlan with the virtual MAC, so the observer's
# neighbour entry for it stays right across a change of master.
for family in 4 6; do
    drop_vips
    vmac=vrrp.52 mac=00:00:5e:00:01:34 vip=192.0.2.100
    if [ "$family" = 6 ]; then
        vmac=vrrp.53 mac=00:00:5e:00:02:35 vip=2001:db8:1::2
        ip -n "$(ns c)" -6 route replace 2001:db8:1::/64 dev e0  # the VIP's prefix is on the link
    fi
    config labctl-vmac "$family" 150 0.1 "use_vmac"
    config keepalived-vmac "$family" 100 0.1 "use_vmac"
    ip -n "$(ns c)" neigh flush dev e0
    # Replies from the VIP leave through e0; without arp_announce=2 the ARP request for the
    # observer would carry the VIP with e0's MAC and overwrite the observer's entry (with
    # keepalived as much as with labctl; neither sets it).
    for n in a b; do ip netns exec "$(ns $n)" sysctl -qw net.ipv4.conf.e0.arp_announce=2; done
    # A fixed duration: under the test runner SIGTERM and SIGINT arrive blocked, so tshark
    # could not be stopped with kill.
    ip netns exec "$(ns c)" tshark -q -a duration:10 -i e0 -w "$work/vmac$family.pcapng" -f "ip proto 112 or ip6 proto 112" 2>/dev/null &
    capture=$!
    sleep 1
    start_keepalived keepalived-vmac
    result "vmac.v$family.keepalived_vip" "$(wait_vip b "$family" 3 "$vmac")"
    ip netns exec "$(ns c)" busybox ping -c 1 -W 1 "$vip" > /dev/null 2>&1
    result "vmac.v$family.neighbour_before" "$(ip -n "$(ns c)" neigh show "$vip" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)"
    start_labctl labctl-vmac
    result "vmac.v$family.labctl_vip" "$(wait_vip a "$family" 3 "$vmac")"
    sleep 0.3
    has_vip b "$family" "$vmac" && result "vmac.v$family.keepalived_kept_vip" yes || result "vmac.v$family.keepalived_kept_vip" no
    result "vmac.v$family.link" "$(ip -n "$(ns a)" -br link show "$vmac" | awk '{print $3}') $(ip -n "$(ns a)" -d link show "$vmac" | grep -o 'macvlan mode [a-z]*')"
    result "vmac.v$family.received_from_keepalived" "$("$labctl" vrrp status --json --control "$work/a.sock" | grep -o '"advertisementsReceived" *: *[0-9]*' | grep -o '[0-9]*$')"
    [ "$family" = 4 ] && result "vmac.v4.parent_arp" "$(ip netns exec "$(ns a)" cat /proc/sys/net/ipv4/conf/e0/arp_ignore /proc/sys/net/ipv4/conf/e0/arp_filter | tr '\n' ' ')"
    ip netns exec "$(ns c)" busybox ping -c 1 -W 1 "$vip" > /dev/null 2>&1 && result "vmac.v$family.ping_labctl" ok || result "vmac.v$family.ping_labctl" failed
    result "vmac.v$family.neighbour_labctl" "$(ip -n "$(ns c)" neigh show "$vip" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)"
    watch_vip b
    t0=$(now)
    stop labctl TERM &
    stopper=$!
    result "vmac.v$family.sigterm.keepalived_vip" "$(vip_added b "$family" "$t0" 3 "$vmac")"
    wait "$stopper"
    ip -n "$(ns a)" link show "$vmac" > /dev/null 2>&1 && result "vmac.v$family.labctl_link_after_stop" present || result "vmac.v$family.labctl_link_after_stop" gone
    [ "$family" = 4 ] && result "vmac.v4.parent_arp_after_stop" "$(ip netns exec "$(ns a)" cat /proc/sys/net/ipv4/conf/e0/arp_ignore /proc/sys/net/ipv4/conf/e0/arp_filter | tr '\n' ' ')"
    ip netns exec "$(ns c)" busybox ping -c 1 -W 1 "$vip" > /dev/null 2>&1 && result "vmac.v$family.ping_keepalived" ok || result "vmac.v$family.ping_keepalived" failed
    result "vmac.v$family.neighbour_keepalived" "$(ip -n "$(ns c)" neigh show "$vip" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)"
    sleep 0.3
    wait "$capture" 2>/dev/null
    # Source MACs of labctl's advertisements (priority 150 and its priority 0 on SIGTERM).
    result "vmac.v$family.labctl_advert_macs" "$(tshark -r "$work/vmac$family.pcapng" -Y 'vrrp.prio == 150 || vrrp.prio == 0' -T fields -e eth.src 2>/dev/null | sort -u | tr '\n' ' ')"
    stop keepalived TERM
done

echo "--- labctl log"
tail -n 40 "$work/labctl.log"
echo "--- keepalived log"
grep -v "NOTICE" "$work/keepalived.log" | tail -n 60
