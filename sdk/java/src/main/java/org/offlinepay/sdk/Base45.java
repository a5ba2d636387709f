package org.offlinepay.sdk;

/**
 * Base45 (RFC 9285, "The Base45 Data Encoding", section 4): bytes as text in the QR alphanumeric alphabet, 3
 * characters per 2 bytes, so a QR code can use its denser alphanumeric mode.
 */
public final class Base45 {
    private Base45() {}

    /** RFC 9285 section 4.2, the 45 characters of the QR alphanumeric mode in their order. */
    public static final String ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    public static String encode(byte[] b) {
        StringBuilder s = new StringBuilder((b.length / 2) * 3 + 2);
        for (int i = 0; i + 1 < b.length; i += 2) {
            int n = (b[i] & 255) * 256 + (b[i + 1] & 255);
            s.append(ALPHABET.charAt(n % 45)).append(ALPHABET.charAt((n / 45) % 45)).append(ALPHABET.charAt(n / 2025));
        }
        if ((b.length & 1) != 0) {
            int n = b[b.length - 1] & 255;
            s.append(ALPHABET.charAt(n % 45)).append(ALPHABET.charAt(n / 45));
        }
        return s.toString();
    }

    /** The bytes, or null for a bad length, a character outside the alphabet, or a group out of range. */
    public static byte[] decode(String s) {
        int rem = s.length() % 3;
        if (rem == 1) return null;
        byte[] out = new byte[(s.length() - rem) / 3 * 2 + (rem != 0 ? 1 : 0)];
        int o = 0;
        for (int i = 0; i < s.length(); i += 3) {
            int c = ALPHABET.indexOf(s.charAt(i));
            int d = ALPHABET.indexOf(s.charAt(i + 1));
            if (c < 0 || d < 0) return null;
            if (i + 2 < s.length()) {
                int e = ALPHABET.indexOf(s.charAt(i + 2));
                if (e < 0) return null;
                int n = c + d * 45 + e * 2025;
                if (n > 0xffff) return null;
                out[o++] = (byte) (n >> 8);
                out[o++] = (byte) n;
            } else {
                int n = c + d * 45;
                if (n > 0xff) return null;
                out[o++] = (byte) n;
            }
        }
        return out;
    }
}
