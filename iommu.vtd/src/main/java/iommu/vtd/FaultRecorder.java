package iommu.vtd;

/**
 * The fault status register (FSTS) and the CAP.NFR fault recording registers
 * at CAP.FRO, as the hardware keeps them (VT-d 7.2.1, 11.4.9, 11.4.14).
 * Each record is 128 bits: fault info (the page address) 63:12, source id
 * 79:64, fault reason 103:96, T 126 (1 read, 0 write), F 127. Hardware
 * records at an internal index that advances (wrapping at NFR) after each
 * record; when the record there still has F set, the fault is dropped and
 * FSTS.PFO set. F and PFO are write-1-to-clear; PPF reads as "some F is set";
 * FRI names the first record written while PPF was clear. The index resets
 * to 0 when PFO and PPF are both clear. Not thread-safe: the unit guards it.
 */
final class FaultRecorder {

    private final int count;
    private final long[] low;
    private final long[] high;
    /** The write-1-to-clear bits of FSTS (PFO, IQE, ...). */
    private int status;
    private int fri;
    private int next;
    private long recorded;
    private long dropped;

    FaultRecorder(int count) {
        if (count < 1 || count > 256) {
            throw new IllegalArgumentException("fault recording registers " + count + ": expected 1..256");
        }
        this.count = count;
        this.low = new long[count];
        this.high = new long[count];
    }

    int count() {
        return count;
    }

    /** Records a primary fault; returns false when it was dropped on overflow. */
    boolean record(FaultReason reason, int sourceId, long address, boolean read) {
        resetIndexIfIdle();
        if ((high[next] & Registers.FRCD_F) != 0) {
            status |= Registers.FSTS_PFO;
            dropped++;
            return false;
        }
        if (!pending()) {
            fri = next;
        }
        low[next] = Registers.frcdLow(address);
        high[next] = Registers.frcdHigh(reason.code(), sourceId, read);
        next = (next + 1) % count;
        recorded++;
        return true;
    }

    /** Sets an FSTS error bit (IQE, ICE, ITE). */
    void raise(int fstsBit) {
        status |= fstsBit;
    }

    boolean isSet(int fstsBit) {
        return (status & fstsBit) != 0;
    }

    int readStatus() {
        resetIndexIfIdle();
        int value = status & Registers.FSTS_RW1C;
        if (pending()) {
            value |= Registers.FSTS_PPF | fri << 8;
        }
        return value;
    }

    /** A write to FSTS: the write-1-to-clear bits set in {@code value} clear. */
    void writeStatus(int value) {
        status &= ~(value & Registers.FSTS_RW1C);
        resetIndexIfIdle();
    }

    long readRecord(int index, boolean highHalf) {
        return highHalf ? high[index] : low[index];
    }

    /** A write to a record's high quadword: F is write-1-to-clear, the rest read-only. */
    void writeRecordHigh(int index, long value) {
        if ((value & Registers.FRCD_F) != 0 && (high[index] & Registers.FRCD_F) != 0) {
            high[index] &= ~Registers.FRCD_F;
        }
        resetIndexIfIdle();
    }

    long recorded() {
        return recorded;
    }

    long dropped() {
        return dropped;
    }

    private boolean pending() {
        for (long h : high) {
            if ((h & Registers.FRCD_F) != 0) {
                return true;
            }
        }
        return false;
    }

    private void resetIndexIfIdle() {
        if ((status & Registers.FSTS_PFO) == 0 && !pending()) {
            next = 0;
            fri = 0;
        }
    }
}
