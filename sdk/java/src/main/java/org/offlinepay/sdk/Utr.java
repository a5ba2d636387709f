package org.offlinepay.sdk;

/**
 * Transaction IDs and the customer's reference (docs/protocol.md section 2, "Transaction IDs"): txId = terminalId
 * (u32) || sequence (u32); the UTR is terminalId x 2^21 + sequence as 11 Crockford base-32 characters and a check
 * character (value mod 37, Crockford's check alphabet), shown XXXX-XXXX-XXXX.
 */
public final class Utr {
    private Utr() {}

    /** Crockford's base-32 alphabet and its 5 extra check symbols (https://www.crockford.com/base32.html). */
    private static final String CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
    public static final long SEQ_LIMIT = 1L << 21;

    public static byte[] txId(long terminalId, long seq) {
        byte[] b = new byte[8];
        Bytes.putU32(b, 0, terminalId);
        Bytes.putU32(b, 4, seq);
        return b;
    }

    public static long terminalIdOf(byte[] txId) {
        return Bytes.u32(txId, 0);
    }

    public static long seqOf(byte[] txId) {
        return Bytes.u32(txId, 4);
    }

    /** The UTR, or "" when the numbers are out of its range. */
    public static String of(long terminalId, long seq) {
        if (terminalId < 0 || terminalId >= (1L << 31) || seq < 0 || seq >= SEQ_LIMIT) return "";
        long v = (terminalId << 21) | seq;
        char[] d = new char[11];
        long check = v % 37;
        for (int i = 10; i >= 0; i--) {
            d[i] = CROCKFORD.charAt((int) (v & 31));
            v >>>= 5;
        }
        String s = new String(d) + CROCKFORD.charAt((int) check);
        return s.substring(0, 4) + "-" + s.substring(4, 8) + "-" + s.substring(8);
    }

    public static String of(byte[] txId) {
        return of(terminalIdOf(txId), seqOf(txId));
    }

    /** {terminalId, seq} from what a customer quotes (case-insensitive, O as 0, I/L as 1), or null. */
    public static long[] parse(String text) {
        StringBuilder c = new StringBuilder();
        for (char ch : text.toUpperCase().toCharArray()) {
            if (ch == '-' || ch == ' ') continue;
            c.append(ch == 'O' ? '0' : ch == 'I' || ch == 'L' ? '1' : ch);
        }
        if (c.length() != 12) return null;
        long v = 0;
        for (int i = 0; i < 11; i++) {
            int d = CROCKFORD.indexOf(c.charAt(i));
            if (d < 0 || d > 31) return null;
            v = v * 32 + d;
        }
        if (CROCKFORD.indexOf(c.charAt(11)) != v % 37 || (v >>> 21) >= (1L << 31)) return null;
        return new long[] {v >>> 21, v & (SEQ_LIMIT - 1)};
    }
}
