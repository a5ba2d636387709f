package org.offlinepay.sdk;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Byte helpers: hex, concatenation, big-endian integers (the protocol's byte order, docs/protocol.md section 2). */
public final class Bytes {
    private Bytes() {}

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Lower-case hex. */
    public static String toHex(byte[] b) {
        char[] out = new char[b.length * 2];
        for (int i = 0; i < b.length; i++) {
            out[2 * i] = HEX[(b[i] >> 4) & 15];
            out[2 * i + 1] = HEX[b[i] & 15];
        }
        return new String(out);
    }

    /** Hex (either case) to bytes; IllegalArgumentException for an odd length or a non-hex character. */
    public static byte[] fromHex(String s) {
        if (s.length() % 2 != 0) throw new IllegalArgumentException("hex of odd length");
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) throw new IllegalArgumentException("not hex: " + s.substring(2 * i, 2 * i + 2));
            out[i] = (byte) (hi * 16 + lo);
        }
        return out;
    }

    public static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    public static byte[] slice(byte[] b, int from, int to) {
        byte[] out = new byte[to - from];
        System.arraycopy(b, from, out, 0, out.length);
        return out;
    }

    public static int u8(byte[] b, int o) {
        return b[o] & 255;
    }

    public static int u16(byte[] b, int o) {
        return ((b[o] & 255) << 8) | (b[o + 1] & 255);
    }

    public static int u24(byte[] b, int o) {
        return ((b[o] & 255) << 16) | ((b[o + 1] & 255) << 8) | (b[o + 2] & 255);
    }

    /** An unsigned 32-bit value (as a long: terminal IDs and times use the whole range). */
    public static long u32(byte[] b, int o) {
        return ((long) (b[o] & 255) << 24) | ((b[o + 1] & 255) << 16) | ((b[o + 2] & 255) << 8) | (b[o + 3] & 255);
    }

    public static void putU16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    public static void putU24(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 16);
        b[o + 1] = (byte) (v >>> 8);
        b[o + 2] = (byte) v;
    }

    public static void putU32(byte[] b, int o, long v) {
        b[o] = (byte) (v >>> 24);
        b[o + 1] = (byte) (v >>> 16);
        b[o + 2] = (byte) (v >>> 8);
        b[o + 3] = (byte) v;
    }

    /** Equal in time independent of where they differ (MessageDigest.isEqual is constant-time since Java 6u17). */
    public static boolean equalConstantTime(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    public static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) d.update(p);
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this platform", e);
        }
    }
}
