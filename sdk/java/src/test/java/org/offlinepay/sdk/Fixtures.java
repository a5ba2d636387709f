package org.offlinepay.sdk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.List;
import java.util.Map;

/** The published test vectors (docs/protocol-vectors.json, read from the repository) and message makers signed with their TEST-ONLY keys. */
final class Fixtures {
    private Fixtures() {}

    /** The repository's root: -Drepo.root=..., else found upwards from the working directory. */
    static Path repoRoot() {
        String p = System.getProperty("repo.root");
        if (p != null) return Paths.get(p);
        Path d = Paths.get("").toAbsolutePath();
        while (d != null && !Files.exists(d.resolve("docs/protocol-vectors.json"))) d = d.getParent();
        if (d == null) throw new IllegalStateException("docs/protocol-vectors.json not found above " + Paths.get("").toAbsolutePath() + " (set -Drepo.root)");
        return d;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> vectors() throws IOException {
        return (Map<String, Object>) Json.parse(new String(Files.readAllBytes(repoRoot().resolve("docs/protocol-vectors.json")), StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o, String k) {
        return (Map<String, Object>) ((Map<String, Object>) o).get(k);
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String k) {
        return (List<Object>) ((Map<String, Object>) o).get(k);
    }

    static String s(Object o, String k) {
        return (String) ((Map<?, ?>) o).get(k);
    }

    static long n(Object o, String k) {
        return ((Number) ((Map<?, ?>) o).get(k)).longValue();
    }

    /** A key pair from a 32-byte private scalar and its X||Y. */
    static KeyPair pair(byte[] d, byte[] xy) throws GeneralSecurityException {
        return new KeyPair(P256.publicKey(xy), P256.privateKey(d));
    }

    static byte[] signed(byte[] unsigned, PrivateKey k) throws GeneralSecurityException {
        byte[] sig = P256.sign(k, Messages.signedPart(unsigned));
        byte[] out = unsigned.clone();
        System.arraycopy(sig, 0, out, out.length - 64, 64);
        return out;
    }

    static byte[] allowance(PrivateKey issuer, int keyId, byte[] walletPub, int cap, int currency, int expiryDay, int startCounter) throws GeneralSecurityException {
        byte[] b = new byte[140];
        b[0] = 1;
        b[1] = Messages.ALLOWANCE;
        System.arraycopy(walletPub, 0, b, 2, 64);
        Bytes.putU24(b, 66, cap);
        Bytes.putU16(b, 69, currency);
        Bytes.putU16(b, 71, expiryDay);
        Bytes.putU16(b, 73, startCounter);
        b[75] = (byte) keyId;
        return signed(b, issuer);
    }

    static byte[] cert(PrivateKey issuer, int keyId, long terminalId, long merchantId, byte[] terminalPub, int expiryDay) throws GeneralSecurityException {
        byte[] b = new byte[141];
        b[0] = 1;
        b[1] = Messages.TERMINAL_CERT;
        Bytes.putU32(b, 2, terminalId);
        Bytes.putU32(b, 6, merchantId);
        System.arraycopy(terminalPub, 0, b, 10, 64);
        Bytes.putU16(b, 74, expiryDay);
        b[76] = (byte) keyId;
        return signed(b, issuer);
    }

    static byte[] request(PrivateKey terminal, long terminalId, long amount, int currency, byte nonceFill, long time) throws GeneralSecurityException {
        byte[] b = new byte[88];
        b[0] = 1;
        b[1] = Messages.REQUEST;
        Bytes.putU32(b, 2, terminalId);
        Bytes.putU32(b, 6, amount);
        Bytes.putU16(b, 10, currency);
        for (int i = 12; i < 20; i++) b[i] = nonceFill;
        Bytes.putU32(b, 20, time);
        return signed(b, terminal);
    }

    static byte[] receipt(PrivateKey terminal, byte[] txId, int status, long time, byte[] payment) throws GeneralSecurityException {
        byte[] b = new byte[87];
        b[0] = 1;
        b[1] = Messages.RECEIPT;
        System.arraycopy(txId, 0, b, 2, 8);
        b[10] = (byte) status;
        Bytes.putU32(b, 11, time);
        System.arraycopy(Bytes.sha256(payment), 0, b, 15, 8);
        return signed(b, terminal);
    }

    /** The vectors' keys: issuer (ID 1), terminal, wallet. */
    static final class Keys {
        final KeyPair issuer, terminal, wallet;
        final int issuerKeyId;

        Keys() throws Exception {
            Map<String, Object> k = obj(vectors(), "keys");
            issuer = pair(Bytes.fromHex(s(k.get("issuer"), "private")), Bytes.fromHex(s(k.get("issuer"), "public")));
            terminal = pair(Bytes.fromHex(s(k.get("terminal"), "private")), Bytes.fromHex(s(k.get("terminal"), "public")));
            wallet = pair(Bytes.fromHex(s(k.get("wallet"), "private")), Bytes.fromHex(s(k.get("wallet"), "public")));
            issuerKeyId = (int) n(k.get("issuer"), "keyId");
        }

        byte[] issuerPub() throws GeneralSecurityException {
            return P256.raw(issuer.getPublic());
        }

        byte[] terminalPub() throws GeneralSecurityException {
            return P256.raw(terminal.getPublic());
        }

        byte[] walletPub() throws GeneralSecurityException {
            return P256.raw(wallet.getPublic());
        }
    }

    /** 2026-02-13, the vectors' request day (1771000000 s). */
    static final long NOW_S = 1771000000L;
    static final int EUR = 978;
}
