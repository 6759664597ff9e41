# Runs inside the VM: a WireGuard link from the real kernel module, and labctl's keys against wg's.
set -e
echo "kernel: $(uname -r)"
/usr/sbin/ip link add wg0 type wireguard
/usr/sbin/ip link show wg0
for i in 1 2 3; do
    k=$(labctl wg genkey)
    [ "$(echo "$k" | labctl wg pubkey)" = "$(echo "$k" | wg pubkey)" ]
done
echo "pubkey: same"
