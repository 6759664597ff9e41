# Runs inside the VM (scripts/bench/wg): setconf and show dump at 10,000 and 50,000 peers,
# wg and labctl side by side on the same files, alternating which goes first. Devices are
# never deleted: tearing down tens of thousands of peers takes the kernel minutes under TCG.
ip=/usr/sbin/ip
# The clock in microseconds (adjtimex(2)); /proc/uptime counts only hundredths. Under
# LABCTL_VM_QEMU="-icount shift=0,sleep=off" a guest second is a billion instructions.
now() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d.%06d\n", s, u }'; }
run() {  # seconds one command takes
    local t0 t1
    t0=$(now); "$@" > /dev/null || { echo "FAIL: $*"; exit 1; }; t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
# Peak RSS from busybox's time -v, which takes ru_maxrss for pages and prints it times 4:
# it is already in KiB.
kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' | awk '{ print int($1 / 4) }'; }
dev=0
fresh() { dev=$((dev + 1)); $ip link add wg$dev type wireguard; }  # not in $(...): dev must persist
for n in 10000 50000; do
    f=/test/bench/peers$n.conf
    # Two rounds at each size, the tools taking turns at going first: a setconf runs slower the
    # more peers the kernel already holds (under QEMU -icount, the same file into a fourth
    # device took 0.1 s longer than into the first), so one round would favour the first tool.
    rounds="1 2"
    for round in $rounds; do
        fresh; a=wg$dev; fresh; b=wg$dev
        if [ $round = 1 ]; then w=$(run wg setconf $a $f); l=$(run labctl wg setconf $b $f)
        else l=$(run labctl wg setconf $b $f); w=$(run wg setconf $a $f); fi
        echo "setconf $n round $round: wg $w s, labctl $l s"
        for r in 1 2; do
            if [ $r = 1 ]; then w=$(run wg show $a dump); l=$(run labctl wg show $a dump)
            else l=$(run labctl wg show $a dump); w=$(run wg show $a dump); fi
            echo "dump $n round $round.$r: wg $w s, labctl $l s"
        done
        wg show $a dump > x; labctl wg show $b dump > y; cmp -s x y || { echo "FAIL: dumps differ at $n"; exit 1; }
    done
    rss=$( (time -v labctl wg show $a dump > /dev/null) 2>&1 | kib)
    echo "peak RSS $n: labctl show dump $rss KiB"
    if [ $n = 10000 ]; then
        fresh; c=wg$dev
        rss=$( (time -v labctl wg setconf $c $f) 2>&1 | kib)
        echo "peak RSS $n: labctl setconf $rss KiB"
    fi
done
