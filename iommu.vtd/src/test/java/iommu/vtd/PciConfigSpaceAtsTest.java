package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The ATS capability found in a function's configuration space as Linux's
 * {@code pci_find_ext_capability(dev, PCI_EXT_CAP_ID_ATS)} finds it, and its
 * Invalidate Queue Depth ({@code PCI_ATS_CAP_QDEP}).
 */
class PciConfigSpaceAtsTest {

    /** A 4 KiB config space whose extended capabilities are (id, offset) pairs, chained in order. */
    static byte[] config(int queueDepth, int... idsAndOffsets) {
        byte[] c = new byte[4096];
        for (int i = 0; i < idsAndOffsets.length; i += 2) {
            int pos = idsAndOffsets[i + 1];
            int next = i + 3 < idsAndOffsets.length ? idsAndOffsets[i + 3] : 0;
            put32(c, pos, idsAndOffsets[i] | 1 << 16 | next << 20);
            if (idsAndOffsets[i] == PciConfigSpace.EXT_CAP_ID_ATS) {
                put32(c, pos + 4, queueDepth | 0x20 << 8); // ATS Capability: queue depth 4:0, page aligned bit 5
            }
        }
        return c;
    }

    static void put32(byte[] b, int offset, int v) {
        for (int i = 0; i < 4; i++) {
            b[offset + i] = (byte) (v >>> (8 * i));
        }
    }

    @Test
    void theAtsCapabilityIsFoundAlongTheChainWithItsQueueDepth() {
        // AER at 0x100, ACS at 0x148, ATS at 0x160 (the chain of an Intel X710 PF)
        assertThat(PciConfigSpace.atsQueueDepth(config(0, 0x01, 0x100, 0x0d, 0x148, 0x0f, 0x160))).hasValue(0);
        assertThat(PciConfigSpace.atsQueueDepth(config(0x10, 0x0f, 0x100))).hasValue(0x10);
        assertThat(PciConfigSpace.atsQueueDepth(config(0x1f | 0x40, 0x0f, 0x100))).as("bits 4:0 only").hasValue(0x1f);
    }

    @Test
    void noAtsWithoutTheCapabilityOrTheExtendedSpace() {
        assertThat(PciConfigSpace.atsQueueDepth(config(0, 0x01, 0x100, 0x10, 0x150))).isEmpty();
        assertThat(PciConfigSpace.atsQueueDepth(new byte[4096])).as("header 0: no capabilities").isEmpty();
        assertThat(PciConfigSpace.atsQueueDepth(new byte[256])).as("conventional PCI: 256 bytes").isEmpty();
        assertThat(PciConfigSpace.atsQueueDepth(java.util.Arrays.copyOf(config(0, 0x01, 0x100, 0x0f, 0x800), 0x400)))
                .as("the file ends before the chain does").isEmpty();
    }

    @Test
    void aLoopingChainEndsAfterTheTtlAndANextBelow0x100EndsIt() {
        byte[] loop = new byte[4096];
        put32(loop, 0x100, 0x01 | 1 << 16 | 0x100 << 20); // points at itself
        assertThat(PciConfigSpace.atsQueueDepth(loop)).isEmpty();
        byte[] low = new byte[4096];
        put32(low, 0x100, 0x01 | 1 << 16 | 0x0fc << 20);
        put32(low, 0xfc, 0x0f);
        assertThat(PciConfigSpace.atsQueueDepth(low)).isEmpty();
        byte[] unaligned = config(3, 0x01, 0x100, 0x0f, 0x140);
        put32(unaligned, 0x100, 0x01 | 1 << 16 | 0x143 << 20); // PCI_EXT_CAP_NEXT clears bits 1:0
        assertThat(PciConfigSpace.atsQueueDepth(unaligned)).hasValue(3);
    }
}
