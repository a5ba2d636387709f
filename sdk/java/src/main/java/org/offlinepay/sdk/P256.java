package org.offlinepay.sdk;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import javax.crypto.KeyAgreement;

/**
 * ECDSA and ECDH on P-256 (secp256r1) with java.security, in the protocol's encodings: a public key is X||Y (64
 * bytes), a signature R||S (64 bytes, docs/protocol.md section 1). Java's "SHA256withECDSA" speaks DER
 * (ITU-T X.690: SEQUENCE { INTEGER r, INTEGER s }, as RFC 3279 section 2.2.3 names Ecdsa-Sig-Value): converted here.
 * Works with keys from any provider, the Android Keystore's included (the private key never has to leave it).
 */
public final class P256 {
    private P256() {}

    private static volatile ECParameterSpec params;

    /** The curve's parameters, from the platform (SunEC on a desktop, Conscrypt/BoringSSL on Android). */
    public static ECParameterSpec params() throws GeneralSecurityException {
        ECParameterSpec p = params;
        if (p == null) {
            AlgorithmParameters a = AlgorithmParameters.getInstance("EC");
            a.init(new ECGenParameterSpec("secp256r1"));
            p = a.getParameterSpec(ECParameterSpec.class);
            params = p;
        }
        return p;
    }

    /** A fresh key pair (software key; on Android make the wallet key in the Keystore instead, docs/wallet-sdk-java.md). */
    public static KeyPair generate() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A public key from X||Y (64 bytes). */
    public static PublicKey publicKey(byte[] xy) throws GeneralSecurityException {
        if (xy == null || xy.length != 64) throw new GeneralSecurityException("a P-256 public key is 64 bytes (X||Y)");
        ECPoint w = new ECPoint(new BigInteger(1, Bytes.slice(xy, 0, 32)), new BigInteger(1, Bytes.slice(xy, 32, 64)));
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, params()));
    }

    /** A private key from its 32-byte scalar (tests and the published test vectors; a real wallet key stays in the Keystore). */
    public static PrivateKey privateKey(byte[] d) throws GeneralSecurityException {
        return KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(new BigInteger(1, d), params()));
    }

    /** X||Y (64 bytes) of a P-256 public key. */
    public static byte[] raw(PublicKey k) throws GeneralSecurityException {
        if (!(k instanceof ECPublicKey)) throw new GeneralSecurityException("not an EC public key");
        ECPoint w = ((ECPublicKey) k).getW();
        return Bytes.concat(fixed(w.getAffineX()), fixed(w.getAffineY()));
    }

    /** ECDSA P-256 with SHA-256 over `data`: R||S (64 bytes). */
    public static byte[] sign(PrivateKey k, byte[] data) throws GeneralSecurityException {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(k);
        s.update(data);
        return derToRaw(s.sign());
    }

    /** Whether `sig` (R||S) is a valid signature of `data` by X||Y `pub`; false for any malformed input. */
    public static boolean verify(byte[] pub, byte[] sig, byte[] data) {
        try {
            if (sig == null || sig.length != 64) return false;
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(publicKey(pub));
            s.update(data);
            return s.verify(rawToDer(sig));
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** ECDH: the shared X coordinate (32 bytes) of our private key and the peer's X||Y. */
    public static byte[] ecdh(PrivateKey mine, byte[] peerXY) throws GeneralSecurityException {
        KeyAgreement ka = KeyAgreement.getInstance("ECDH");
        ka.init(mine);
        ka.doPhase(publicKey(peerXY), true);
        byte[] z = ka.generateSecret();
        if (z.length == 32) return z;
        return fixed(new BigInteger(1, z));
    }

    private static byte[] fixed(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        if (b.length > 32) System.arraycopy(b, b.length - 32, out, 0, 32);
        else System.arraycopy(b, 0, out, 32 - b.length, b.length);
        return out;
    }

    /** DER Ecdsa-Sig-Value to R||S (64 bytes). */
    public static byte[] derToRaw(byte[] der) throws GeneralSecurityException {
        int[] pos = {0};
        if (der.length < 8 || der[pos[0]++] != 0x30) throw new GeneralSecurityException("not a DER ECDSA signature");
        int total = derLength(der, pos);
        if (pos[0] + total != der.length) throw new GeneralSecurityException("DER signature: bad length");
        byte[] r = derInteger(der, pos);
        byte[] s = derInteger(der, pos);
        if (pos[0] != der.length) throw new GeneralSecurityException("DER signature: trailing bytes");
        return Bytes.concat(fixed(new BigInteger(1, r)), fixed(new BigInteger(1, s)));
    }

    /** R||S (64 bytes) to DER Ecdsa-Sig-Value. */
    public static byte[] rawToDer(byte[] raw) {
        byte[] r = derInt(new BigInteger(1, Bytes.slice(raw, 0, 32)));
        byte[] s = derInt(new BigInteger(1, Bytes.slice(raw, 32, 64)));
        int n = r.length + s.length;
        byte[] head = n < 128 ? new byte[] {0x30, (byte) n} : new byte[] {0x30, (byte) 0x81, (byte) n};
        return Bytes.concat(head, r, s);
    }

    private static byte[] derInt(BigInteger v) {
        byte[] b = v.toByteArray(); // minimal two's complement: a leading 00 when the top bit is set
        return Bytes.concat(new byte[] {0x02, (byte) b.length}, b);
    }

    private static int derLength(byte[] d, int[] pos) throws GeneralSecurityException {
        int l = d[pos[0]++] & 255;
        if (l < 128) return l;
        if (l != 0x81 || pos[0] >= d.length) throw new GeneralSecurityException("DER signature: bad length");
        return d[pos[0]++] & 255;
    }

    private static byte[] derInteger(byte[] d, int[] pos) throws GeneralSecurityException {
        if (pos[0] >= d.length || d[pos[0]++] != 0x02) throw new GeneralSecurityException("DER signature: INTEGER expected");
        int l = derLength(d, pos);
        if (l < 1 || l > 33 || pos[0] + l > d.length) throw new GeneralSecurityException("DER signature: bad INTEGER");
        byte[] v = Bytes.slice(d, pos[0], pos[0] + l);
        pos[0] += l;
        return v;
    }
}
