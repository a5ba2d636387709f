package org.offlinepay.sdk;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The sealed envelope (docs/protocol.md section 4): version 1 | keyId | seq (u32) | iv (16) | AES-128-CBC with
 * PKCS#7 padding | tag = HMAC-SHA256(mac, everything before)[0..16]; iv = HMAC-SHA256(mac, "IV" | keyId | seq)[0..16].
 * Encrypt-then-MAC: the tag is checked (in constant time) before anything is decrypted.
 */
public final class Seal {
    private Seal() {}

    /** One direction's keys: its key ID, AES-128 key and HMAC key. */
    public static final class Keys {
        public final int keyId;
        final byte[] enc;
        final byte[] mac;

        public Keys(int keyId, byte[] enc, byte[] mac) {
            this.keyId = keyId;
            this.enc = enc.clone();
            this.mac = mac.clone();
        }
    }

    /** An envelope that does not open: reason "format", "key", "tag" or "padding". */
    public static final class Broken extends Exception {
        public final String reason;

        Broken(String reason) {
            super("sealed envelope rejected: " + reason);
            this.reason = reason;
        }
    }

    /** An opened envelope. */
    public static final class Opened {
        public final long seq;
        public final byte[] data;

        Opened(long seq, byte[] data) {
            this.seq = seq;
            this.data = data;
        }
    }

    public static byte[] hmac(byte[] key, byte[]... parts) throws GeneralSecurityException {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        for (byte[] p : parts) m.update(p);
        return m.doFinal();
    }

    public static byte[] seal(Keys k, long seq, byte[] plaintext) throws GeneralSecurityException {
        byte[] h = new byte[6];
        h[0] = 1;
        h[1] = (byte) k.keyId;
        Bytes.putU32(h, 2, seq);
        byte[] iv = Bytes.slice(hmac(k.mac, new byte[] {0x49, 0x56}, Bytes.slice(h, 1, 6)), 0, 16);
        Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding"); // PKCS#5 padding in JCA names is PKCS#7 for 16-byte blocks
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k.enc, "AES"), new IvParameterSpec(iv));
        byte[] body = Bytes.concat(h, iv, c.doFinal(plaintext));
        return Bytes.concat(body, Bytes.slice(hmac(k.mac, body), 0, 16));
    }

    public static Opened unseal(Keys k, byte[] env) throws Broken, GeneralSecurityException {
        if (env.length < 6 + 16 + 16 + 16 || (env.length - 38) % 16 != 0 || env[0] != 1) throw new Broken("format");
        if ((env[1] & 255) != k.keyId) throw new Broken("key");
        byte[] body = Bytes.slice(env, 0, env.length - 16);
        if (!Bytes.equalConstantTime(Bytes.slice(hmac(k.mac, body), 0, 16), Bytes.slice(env, env.length - 16, env.length))) throw new Broken("tag");
        Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k.enc, "AES"), new IvParameterSpec(Bytes.slice(env, 6, 22)));
        try {
            return new Opened(Bytes.u32(env, 2), c.doFinal(env, 22, env.length - 38));
        } catch (GeneralSecurityException e) {
            throw new Broken("padding");
        }
    }
}
