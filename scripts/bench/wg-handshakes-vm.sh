# Runs inside the VM: how fast the kernel completes WireGuard handshakes under TCG. A server
# with N peers (one client device each, in another namespace) gets persistent-keepalive on all
# of them in one `wg set`, as labctl's takeover does, and the script waits until every peer has
# a handshake. Used to check whether QEMU's CPU model changes the cost, e.g.
#   for c in max max,-avx2,-avx max,-adx,-bmi2; do LABCTL_VM_CPU=$c scripts/vm/run scripts/bench/wg-handshakes-vm.sh; done
ip=/usr/sbin/ip
N=${N:-60}
cd /tmp
grep -o -w -E 'avx2|avx|ssse3|adx|bmi2|avx512f|sha_ni' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
$ip netns add s; $ip netns add c
$ip link add vs netns s type veth peer name vc netns c
$ip -n s addr add 10.9.0.1/24 dev vs; $ip -n s link set vs up; $ip -n c addr add 10.9.0.2/24 dev vc; $ip -n c link set vc up
wg genkey > sk; spub=$(wg pubkey < sk)
$ip -n s link add wg0 type wireguard
$ip netns exec s wg set wg0 private-key sk listen-port 51820
$ip -n s link set wg0 up
i=1; args=""
while [ $i -le $N ]; do
  wg genkey > k$i
  $ip -n c link add wgc$i type wireguard
  $ip netns exec c wg set wgc$i private-key k$i listen-port $((52000 + i)) peer $spub allowed-ips 10.10.0.1/32
  $ip -n c link set wgc$i up
  pub=$(wg pubkey < k$i)
  $ip netns exec s wg set wg0 peer $pub allowed-ips 10.10.$((i / 200)).$((i % 200 + 2))/32 endpoint 10.9.0.2:$((52000 + i))
  args="$args peer $pub persistent-keepalive 25"
  i=$((i + 1))
done
t0=$(cut -d' ' -f1 /proc/uptime)
$ip netns exec s wg set wg0 $args
t1=$(cut -d' ' -f1 /proc/uptime)
while :; do
  n=$($ip netns exec s wg show wg0 latest-handshakes | awk '$2 != 0' | wc -l)
  [ "$n" -ge $N ] && break
  sleep 0.02
done
t2=$(cut -d' ' -f1 /proc/uptime)
awk -v a=$t0 -v b=$t1 -v c=$t2 -v n=$N 'BEGIN { printf "N=%d set %.2f s, all handshaked after %.2f s (%.1f ms per handshake)\n", n, b - a, c - a, (c - a) * 1000 / n }'
