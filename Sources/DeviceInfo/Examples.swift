/// Dumps shipped with the package, rebuilt from published values.
public enum DeviceExamples {
    /// Names accepted by ``source(named:)``.
    public static let names = ["netgear-m5"]

    public static func source(named name: String) -> MemorySource? {
        switch name {
        case "netgear-m5": netgearM5
        default: nil
        }
    }

    /// The Netgear Nighthawk M5 (MR5200), Qualcomm SDX55, firmware NTGX55_12.04.12.00, as published
    /// in "Having a detailed look at the Netgear Nighthawk M5". The serial number was published
    /// partly masked and stays so. `free -m` gave total 781, used 387, free 393, cached 142 MiB,
    /// swap 109 MiB (an older free: used = total - free); the meminfo below reproduces those
    /// figures to the MiB.
    public static let netgearM5 = MemorySource(label: "example netgear-m5", textFiles: [
        "/proc/cpuinfo": """
            processor       : 0
            model name      : ARMv7 Processor rev 5 (v7l)
            BogoMIPS        : 38.40
            Features        : half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm
            CPU implementer : 0x41
            CPU architecture: 7
            CPU variant     : 0x0
            CPU part        : 0xc07
            CPU revision    : 5

            Hardware        : Qualcomm Technologies, Inc SDXPRAIRIE
            Revision        : 0000
            Serial          : 0000000000000000

            """,
        "/proc/meminfo": """
            MemTotal:         799844 kB
            MemFree:          402932 kB
            Buffers:               0 kB
            Cached:           145408 kB
            SwapTotal:        111616 kB
            SwapFree:         111616 kB
            Shmem:                 0 kB

            """,
        "/proc/version": "Linux version 4.14.117 (oe-user@oe-host) (clang version 6.0.9 for Android NDK) #1 PREEMPT Thu Aug 19 23:42:26 UTC 2021\n",
        "/proc/cmdline": "noinitrd rw rootwait console=ttyMSM0,115200,n8 androidboot.hardware=qcom msm_rtb.filter=0x237 androidboot.console=ttyMSM0 lpm_levels.sleep_disabled=1 firmware_class.path=/lib/firmware/updates service_locator.enable=1 net.ifnames=0 atlantic_fwd.rx_ring_size=1024 pci=pcie_bus_perf rootfstype=ubifs rootflags=bulk_read root=ubi0:rootfs ubi.mtd=24 androidboot.serialno=105d0dc7 androidboot.baseband=msm\n",
        "/proc/sys/kernel/ostype": "Linux\n",
        "/proc/sys/kernel/hostname": "sdxprairie\n",
        "/proc/sys/kernel/osrelease": "4.14.117\n",
        "/proc/sys/kernel/version": "#1 PREEMPT Thu Aug 19 23:42:26 UTC 2021\n",
        "/proc/sys/kernel/arch": "armv7l\n",
        "/target": "sdxprairie\n",
        "/sys/devices/soc0/accessory_chip": "0\n",
        "/sys/devices/soc0/chip_family": "0x5e\n",
        "/sys/devices/soc0/chip_name": "SDX55\n",
        "/sys/devices/soc0/family": "Snapdragon\n",
        "/sys/devices/soc0/foundry_id": "1\n",
        "/sys/devices/soc0/hw_platform": "MTP\n",
        "/sys/devices/soc0/image_crm_version": ":ntgrbc-fwbuild6\n",
        "/sys/devices/soc0/image_variant": "MAATANAZA\n",
        "/sys/devices/soc0/image_version": "00:BOOT.SBL.4.1-00231\n",
        "/sys/devices/soc0/machine": "SDXPRAIRIE\n",
        "/sys/devices/soc0/ncluster_array_offset": "0xb0\n",
        "/sys/devices/soc0/ndefective_parts_array_offset": "0xb4\n",
        "/sys/devices/soc0/nmodem_supported": "0xffffffff\n",
        "/sys/devices/soc0/nproduct_id": "0x410\n",
        "/sys/devices/soc0/num_clusters": "0x1\n",
        "/sys/devices/soc0/num_defective_parts": "0xd\n",
        "/sys/devices/soc0/platform_subtype": "Invalid\n",
        "/sys/devices/soc0/platform_subtype_id": "5\n",
        "/sys/devices/soc0/platform_version": "65536\n",
        "/sys/devices/soc0/pmic_die_revision": "131072\n",
        "/sys/devices/soc0/pmic_model": "65568\n",
        "/sys/devices/soc0/raw_device_family": "0x6\n",
        "/sys/devices/soc0/raw_device_number": "0xb\n",
        "/sys/devices/soc0/raw_id": "207\n",
        "/sys/devices/soc0/raw_version": "2\n",
        "/sys/devices/soc0/revision": "2.0\n",
        "/sys/devices/soc0/select_image": "0\n",
        "/sys/devices/soc0/serial_number": "27453XXXX\n",
        "/sys/devices/soc0/soc_id": "357\n",
        "/sys/devices/soc0/vendor": "Qualcomm\n",
        "/sys/devices/soc0/images": """
            0:
                    CRM:            00:BOOT.SBL.4.1-00231
                    Variant:        MAATANAZA
                    Version:        :ntgrbc-fwbuild6
            1:
                    CRM:            01:TZ.FU.5.9-00147
                    Variant:        EATAANBAA
                    Version:        :CRM
            11:
                    CRM:            11:MPSS.HI.2.0.c3.5-00010-SDX55_CPEALL_PACK-1.403198.3
                    Variant:        sdx55.gennatch.prod
                    Version:        :ntgrbc-fwbuild6

            """,
    ])
}
