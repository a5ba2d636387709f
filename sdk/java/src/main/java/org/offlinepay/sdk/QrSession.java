package org.offlinepay.sdk;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;

/**
 * The encrypted payment QR, version 2 of the QR texts (docs/protocol.md section 3, "Encrypted payment QR"; a port of
 * protocol/qr-session.ts and sdk/qr-session.ts):
 *
 * <pre>
 *   R2 = "R2" + Base45( Request (88) | sessionKey (33, SEC 1 compressed) )
 *   P2 = "P2" + Base45( walletEph (64, X|Y) | sealed envelope (keyId 4, seq 1) of the Payment (206) )
 *   th = SHA-256( "qr-session v1" | Request | sessionKey | walletEph ),  Z = ECDH(walletEph, session key)
 *   enc = HMAC-SHA256(Z, "qr enc" | th)[0..16],  mac = HMAC-SHA256(Z, "qr mac" | th)[0..16]
 * </pre>
 *
 * Only the terminal that showed the request (its secure element holds the session key) can read the P2 code.
 */
public final class QrSession {
    private QrSession() {}

    public static final int QR_VERSION = 2, KEYID_QR = 4, SESSION_KEY_LEN = 33;
    static final byte[] LABEL = "qr-session v1".getBytes(StandardCharsets.US_ASCII);

    /** P-256's field prime and b (FIPS 186-4 D.1.2.3; SEC 2 v2 section 2.4.2). */
    private static final BigInteger P = new BigInteger("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", 16);
    private static final BigInteger B = new BigInteger("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b", 16);

    /** An R2 text's parts. */
    public static final class RequestQr {
        public final byte[] request;
        public final byte[] sessionKey;

        RequestQr(byte[] request, byte[] sessionKey) {
            this.request = request;
            this.sessionKey = sessionKey;
        }
    }

    /** SEC 1 v2 section 2.3.3: 02 or 03 (Y even or odd), then X. */
    public static byte[] compress(byte[] xy) {
        byte[] out = new byte[SESSION_KEY_LEN];
        out[0] = (byte) (2 + (xy[63] & 1));
        System.arraycopy(xy, 0, out, 1, 32);
        return out;
    }

    /**
     * X|Y of a compressed P-256 key, or null when it is not a point of the curve (SEC 1 v2 section 2.3.4; since
     * p = 3 mod 4 the square root is (x^3 - 3x + b)^((p+1)/4) mod p).
     */
    public static byte[] decompress(byte[] k) {
        if (k == null || k.length != SESSION_KEY_LEN || (k[0] != 2 && k[0] != 3)) return null;
        BigInteger x = new BigInteger(1, Bytes.slice(k, 1, 33));
        if (x.compareTo(P) >= 0) return null;
        BigInteger a = x.pow(3).subtract(x.multiply(BigInteger.valueOf(3))).add(B).mod(P);
        BigInteger y = a.modPow(P.add(BigInteger.ONE).shiftRight(2), P);
        if (!y.multiply(y).mod(P).equals(a)) return null;
        if (y.testBit(0) != ((k[0] & 1) == 1)) y = P.subtract(y);
        return Bytes.concat(fixed(x), fixed(y));
    }

    private static byte[] fixed(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        if (b.length > 32) System.arraycopy(b, b.length - 32, out, 0, 32);
        else System.arraycopy(b, 0, out, 32 - b.length, b.length);
        return out;
    }

    private static String trim(String text) {
        String t = text;
        while (t.length() > 0 && (t.charAt(t.length() - 1) == '\r' || t.charAt(t.length() - 1) == '\n')) t = t.substring(0, t.length() - 1);
        return t;
    }

    /** The R2 text of a signed Request and the session key's X|Y. */
    public static String requestText(byte[] request, byte[] sessionPub) {
        return "R" + QR_VERSION + Base45.encode(Bytes.concat(request, compress(sessionPub)));
    }

    /** An R2 text's Request and compressed session key, or null when it is not one. */
    public static RequestQr parseRequest(String text) {
        String t = trim(text);
        if (t.length() < 2 || t.charAt(0) != 'R' || t.charAt(1) != (char) ('0' + QR_VERSION)) return null;
        byte[] b = Base45.decode(t.substring(2));
        if (b == null || b.length != 88 + SESSION_KEY_LEN || (b[0] & 255) != Messages.VERSION || (b[1] & 255) != Messages.REQUEST) return null;
        if (b[88] != 2 && b[88] != 3) return null;
        return new RequestQr(Bytes.slice(b, 0, 88), Bytes.slice(b, 88, b.length));
    }

    static byte[] transcript(byte[] request, byte[] sessionKey, byte[] walletEph) {
        return Bytes.concat(LABEL, request, sessionKey, walletEph);
    }

    static Seal.Keys keys(byte[] z, byte[] th) throws GeneralSecurityException {
        return new Seal.Keys(KEYID_QR, Bytes.slice(Seal.hmac(z, "qr enc".getBytes(StandardCharsets.US_ASCII), th), 0, 16),
                Bytes.slice(Seal.hmac(z, "qr mac".getBytes(StandardCharsets.US_ASCII), th), 0, 16));
    }

    /** The P2 text sealing `payment` for an R2's request and session key, under a fresh wallet key. */
    public static String sealPayment(byte[] request, byte[] sessionKey, byte[] payment) throws GeneralSecurityException {
        return sealPayment(request, sessionKey, payment, P256.generate());
    }

    /** The same with the given ephemeral key (the published vector; a wallet always uses a fresh one). */
    static String sealPayment(byte[] request, byte[] sessionKey, byte[] payment, KeyPair eph) throws GeneralSecurityException {
        byte[] peer = decompress(sessionKey);
        if (peer == null) throw new GeneralSecurityException("the request's session key is not a P-256 point");
        byte[] walletEph = P256.raw(eph.getPublic());
        byte[] z = P256.ecdh(eph.getPrivate(), peer);
        byte[] th = Bytes.sha256(transcript(request, sessionKey, walletEph));
        byte[] env = Seal.seal(keys(z, th), 1, payment);
        java.util.Arrays.fill(z, (byte) 0);
        return "P" + QR_VERSION + Base45.encode(Bytes.concat(walletEph, env));
    }
}
