package iommu.console;

import java.util.BitSet;

/**
 * A picture of one unit's domain ids for a plain terminal: 64 cells a row,
 * one character a cell, at most 32 rows. Up to 2048 ids a cell is one id;
 * beyond, a cell stands for a power-of-two run of ids so the picture keeps
 * its size (65,536 ids: 32 ids a cell).
 */
final class Occupancy {

    static final int CELLS_PER_ROW = 64;
    static final int MAX_ROWS = 32;

    static final char USED = '#';
    static final char PARTLY = '+';
    static final char RESERVED = 'r';
    static final char FREE = '.';

    private Occupancy() {
    }

    /** How many domain ids one cell stands for. */
    static int idsPerCell(int domainIds) {
        int per = 1;
        while ((long) per * CELLS_PER_ROW * MAX_ROWS < domainIds) {
            per <<= 1;
        }
        return per;
    }

    /**
     * @param reserved ids never handed out
     * @param used ids held by guests
     */
    static String render(String unitId, int domainIds, BitSet reserved, BitSet used) {
        int per = idsPerCell(domainIds);
        int cells = (domainIds + per - 1) / per;
        int reservedCount = reserved.get(0, domainIds).cardinality();
        int usedCount = used.get(0, domainIds).cardinality();
        int free = domainIds - reservedCount - usedCount;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s: %d domain ids, %d used, %d reserved, %d free (%s)%n", unitId, domainIds, usedCount,
                reservedCount, Math.max(0, free), per == 1 ? "one id a cell" : per + " ids a cell"));
        int labelWidth = Integer.toString(Math.max(0, (cells - 1) / CELLS_PER_ROW * CELLS_PER_ROW * per)).length();
        for (int row = 0; row * CELLS_PER_ROW < cells; row++) {
            int firstCell = row * CELLS_PER_ROW;
            sb.append(String.format("%" + labelWidth + "d  ", (long) firstCell * per));
            for (int c = firstCell; c < Math.min(cells, firstCell + CELLS_PER_ROW); c++) {
                sb.append(cell(c * per, Math.min(domainIds, (c + 1) * per), reserved, used));
            }
            sb.append('\n');
        }
        sb.append(per == 1
                ? "# used  r reserved  . free"
                : "# all free ids used  + partly used  r reserved, none used  . free");
        return sb.toString();
    }

    static char cell(int from, int to, BitSet reserved, BitSet used) {
        int n = to - from;
        int r = reserved.get(from, to).cardinality();
        int u = used.get(from, to).cardinality();
        if (u > 0) {
            return u + r >= n ? USED : PARTLY;
        }
        return r > 0 ? RESERVED : FREE;
    }
}
