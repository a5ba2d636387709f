package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every vector of docs/protocol-vectors.json, read from the repository: the Java port must agree byte for byte. */
class VectorsTest {
    private final Map<String, Object> v;
    private final Fixtures.Keys keys;

    VectorsTest() throws Exception {
        v = Fixtures.vectors();
        keys = new Fixtures.Keys();
    }

    private byte[] pubOf(String who) throws Exception {
        switch (who) {
            case "issuer": return keys.issuerPub();
            case "terminal": return keys.terminalPub();
            case "wallet": return keys.walletPub();
            default: throw new AssertionError("unknown signer " + who);
        }
    }

    private Map<String, Object> message(String name) {
        for (Object m : Fixtures.list(v, "messages")) if (name.equals(Fixtures.s(m, "name"))) return (Map<String, Object>) m;
        throw new AssertionError("no vector " + name);
    }

    @Test
    void theVectorKeysArePairs() throws Exception {
        byte[] data = "pair check".getBytes();
        for (java.security.KeyPair k : Arrays.asList(keys.issuer, keys.terminal, keys.wallet)) {
            assertTrue(P256.verify(P256.raw(k.getPublic()), P256.sign(k.getPrivate(), data), data));
        }
    }

    @Test
    void everyTopLevelSectionOfTheVectorsIsChecked() {
        // a new section in docs/protocol-vectors.json must get its test here
        assertEquals(new HashSet<>(Arrays.asList("about", "keys", "messages", "seal", "qrSession", "relay", "base45", "utr")), v.keySet());
    }

    @Test
    void theRelayBundleIsCarriedByteForByte() throws Exception {
        // the wallet only carries a relay bundle (it cannot open it): kept, saved, loaded and handed back unchanged
        Map<String, Object> r = Fixtures.obj(v, "relay");
        byte[] bundle = Bytes.fromHex(Fixtures.s(r, "bundle"));
        assertEquals(1, bundle[0]);
        assertEquals(Messages.RELAY, bundle[1] & 255);
        assertEquals(Fixtures.n(r, "terminalId"), Bytes.u32(bundle, 2), "the terminal ID in clear");
        WalletStore.Memory store = new WalletStore.Memory();
        Wallet w = new Wallet(keys.wallet, Bytes.fromHex(Fixtures.s(message("Allowance"), "hex")), store);
        w.keepRelayed(bundle);
        WalletState back = WalletState.fromJson(store.load().toJson());
        assertEquals(1, back.relayed.size());
        assertArrayEquals(bundle, java.util.Base64.getDecoder().decode(back.relayed.get(0)));
        assertArrayEquals(bundle, w.relayedBundles().get(0));
    }

    @Test
    void everyMessageVectorDecodesRoundTripsAsQrAndVerifies() throws Exception {
        Set<String> seen = new HashSet<>();
        for (Object o : Fixtures.list(v, "messages")) {
            Map<String, Object> m = (Map<String, Object>) o;
            String name = Fixtures.s(m, "name");
            byte[] b = Bytes.fromHex(Fixtures.s(m, "hex"));
            assertEquals(Fixtures.n(m, "length"), b.length, name);
            assertEquals(Fixtures.n(m, "type"), b[1] & 255, name);
            assertEquals(b.length, Messages.lengthOf(b[1] & 255), name);
            Object qr = m.get("qr");
            if (qr != null) {
                assertEquals(qr, QrText.encode(b), name + " QR text");
                assertArrayEquals(b, QrText.decode((String) qr + "\r\n").msg, name + " QR text back (scanner tail stripped)");
            } else assertEquals("", QrText.encode(b), name + " is never a QR code");
            String signer = Fixtures.s(m, "signedBy");
            if (name.equals("Payment")) continue; // signs over the request too: its own test
            if (signer.startsWith("hmac")) continue; // Order: its own test
            assertTrue(P256.verify(pubOf(signer), Messages.signatureOf(b), Messages.signedPart(b)), name + " signature by " + signer);
            byte[] bad = b.clone();
            bad[5] ^= 1;
            assertFalse(P256.verify(pubOf(signer), Messages.signatureOf(bad), Messages.signedPart(bad)), name + " altered must not verify");
            seen.add(name);
        }
        seen.add("Payment");
        seen.add("Order");
        assertEquals(new HashSet<>(Arrays.asList("Allowance", "TerminalCert", "Request", "Payment", "Receipt", "Invoice", "PaidConfirmation", "Order", "Refund")), seen);
    }

    @Test
    void decodersReadEveryFieldOfTheVectors() throws Exception {
        Map<String, Object> f = Fixtures.obj(message("Allowance"), "fields");
        Messages.Allowance a = Messages.Allowance.decode(Bytes.fromHex(Fixtures.s(message("Allowance"), "hex")));
        assertEquals(Fixtures.s(f, "walletPub"), Bytes.toHex(a.walletPub));
        assertEquals(Fixtures.n(f, "capMinor"), a.capMinor);
        assertEquals(Fixtures.n(f, "currency"), a.currency);
        assertEquals(Fixtures.n(f, "expiryDay"), a.expiryDay);
        assertEquals(Fixtures.n(f, "startCounter"), a.startCounter);
        assertEquals(Fixtures.n(f, "issuerKeyId"), a.issuerKeyId);
        assertEquals(Fixtures.s(f, "issuerSig"), Bytes.toHex(a.issuerSig));

        f = Fixtures.obj(message("TerminalCert"), "fields");
        Messages.TerminalCert c = Messages.TerminalCert.decode(Bytes.fromHex(Fixtures.s(message("TerminalCert"), "hex")));
        assertEquals(Fixtures.n(f, "terminalId"), c.terminalId);
        assertEquals(Fixtures.n(f, "merchantId"), c.merchantId);
        assertEquals(Fixtures.s(f, "terminalPub"), Bytes.toHex(c.terminalPub));
        assertEquals(Fixtures.n(f, "expiryDay"), c.expiryDay);
        assertEquals(Fixtures.n(f, "issuerKeyId"), c.issuerKeyId);

        f = Fixtures.obj(message("Request"), "fields");
        Messages.Request q = Messages.Request.decode(Bytes.fromHex(Fixtures.s(message("Request"), "hex")));
        assertEquals(Fixtures.n(f, "terminalId"), q.terminalId);
        assertEquals(Fixtures.n(f, "amountMinor"), q.amountMinor);
        assertEquals(Fixtures.n(f, "currency"), q.currency);
        assertEquals(Fixtures.s(f, "nonce"), Bytes.toHex(q.nonce));
        assertEquals(Fixtures.n(f, "time"), q.time);
        assertEquals(Fixtures.s(f, "terminalSig"), Bytes.toHex(q.terminalSig));

        f = Fixtures.obj(message("Payment"), "fields");
        Messages.Payment p = Messages.Payment.decode(Bytes.fromHex(Fixtures.s(message("Payment"), "hex")));
        assertEquals(Fixtures.n(f, "counter"), p.counter);
        assertEquals(Fixtures.s(f, "walletSig"), Bytes.toHex(p.walletSig));
        assertEquals(Fixtures.s(Fixtures.obj(f, "allowance"), "issuerSig"), Bytes.toHex(p.allowance.issuerSig));
        assertArrayEquals(Bytes.fromHex(Fixtures.s(message("Allowance"), "hex")), p.allowance.bytes, "the allowance inside, header restored");

        f = Fixtures.obj(message("Receipt"), "fields");
        Messages.Receipt r = Messages.Receipt.decode(Bytes.fromHex(Fixtures.s(message("Receipt"), "hex")));
        assertEquals(Fixtures.s(f, "txId"), Bytes.toHex(r.txId));
        assertEquals(Fixtures.n(f, "status"), r.status);
        assertEquals(Fixtures.n(f, "time"), r.time);
        assertEquals(Fixtures.s(f, "paymentHash"), Bytes.toHex(r.paymentHash));

        f = Fixtures.obj(message("Invoice"), "fields");
        Messages.Invoice i = Messages.Invoice.decode(Bytes.fromHex(Fixtures.s(message("Invoice"), "hex")));
        assertEquals(Fixtures.n(f, "terminalId"), i.terminalId);
        assertEquals(Fixtures.n(f, "invoiceNo"), i.invoiceNo);
        assertEquals(Fixtures.n(f, "amountMinor"), i.amountMinor);
        assertEquals(Fixtures.n(f, "currency"), i.currency);
        assertEquals(Fixtures.n(f, "expires"), i.expires);

        f = Fixtures.obj(message("PaidConfirmation"), "fields");
        Messages.PaidConfirmation pc = Messages.PaidConfirmation.decode(Bytes.fromHex(Fixtures.s(message("PaidConfirmation"), "hex")));
        assertEquals(Fixtures.n(f, "terminalId"), pc.terminalId);
        assertEquals(Fixtures.n(f, "invoiceNo"), pc.invoiceNo);
        assertEquals(Fixtures.n(f, "amountMinor"), pc.amountMinor);
        assertEquals(Fixtures.n(f, "paidAt"), pc.paidAt);
        assertEquals(Fixtures.n(f, "method"), pc.method);
        assertEquals(Fixtures.s(f, "paymentRef"), Bytes.toHex(pc.paymentRef));
        assertEquals(Fixtures.n(f, "issuerKeyId"), pc.issuerKeyId);

        f = Fixtures.obj(message("Order"), "fields");
        Messages.Order or = Messages.Order.decode(Bytes.fromHex(Fixtures.s(message("Order"), "hex")));
        assertEquals(Fixtures.n(f, "merchantId"), or.merchantId);
        assertEquals(Fixtures.s(f, "orderRef"), or.orderRef);
        assertEquals(Fixtures.n(f, "amountMinor"), or.amountMinor);
        assertEquals(Fixtures.n(f, "expires"), or.expires);
        assertEquals(Fixtures.s(f, "tag"), Bytes.toHex(or.tag));

        f = Fixtures.obj(message("Refund"), "fields");
        Messages.Refund rf = Messages.Refund.decode(Bytes.fromHex(Fixtures.s(message("Refund"), "hex")));
        assertEquals(Fixtures.s(f, "txId"), Bytes.toHex(rf.txId));
        assertEquals(Fixtures.n(f, "amountMinor"), rf.amountMinor);
        assertEquals(Fixtures.n(f, "time"), rf.time);
        assertEquals(Fixtures.n(f, "reason"), rf.reason);
    }

    @Test
    void decodersRefuseAWrongLengthTypeOrVersion() {
        byte[] a = Bytes.fromHex(Fixtures.s(message("Allowance"), "hex"));
        assertNull(Messages.Allowance.decode(Arrays.copyOf(a, 139)));
        assertNull(Messages.TerminalCert.decode(a));
        byte[] v2 = a.clone();
        v2[0] = 2;
        assertNull(Messages.Allowance.decode(v2));
        byte[] o = Bytes.fromHex(Fixtures.s(message("Order"), "hex"));
        o[11] = 0; // "ORD-2", then zero padding, then text again
        assertNull(Messages.Order.decode(o));
    }

    @Test
    void thePaymentVectorsSignatureCoversThePaymentAndTheWholeRequest() throws Exception {
        byte[] p = Bytes.fromHex(Fixtures.s(message("Payment"), "hex"));
        byte[] q = Bytes.fromHex(Fixtures.s(message("Request"), "hex"));
        assertTrue(P256.verify(keys.walletPub(), Messages.signatureOf(p), Bytes.concat(Messages.signedPart(p), q)));
        byte[] other = q.clone();
        other[9] ^= 1; // another amount
        assertFalse(P256.verify(keys.walletPub(), Messages.signatureOf(p), Bytes.concat(Messages.signedPart(p), other)));
        // and the same signature made here verifies as well (ECDSA is randomized: compare by verifying)
        byte[] mine = P256.sign(keys.wallet.getPrivate(), Bytes.concat(Messages.signedPart(p), q));
        assertTrue(P256.verify(keys.walletPub(), mine, Bytes.concat(Messages.signedPart(p), q)));
    }

    @Test
    void thePaymentVectorsFramesAreSplitLikeTheVector() {
        byte[] p = Bytes.fromHex(Fixtures.s(message("Payment"), "hex"));
        List<Object> want = Fixtures.list(message("Payment"), "frames");
        List<byte[]> got = Frames.split(p);
        assertEquals(want.size(), got.size());
        for (int i = 0; i < got.size(); i++) assertEquals(want.get(i), Bytes.toHex(got.get(i)), "frame " + i);
    }

    @Test
    void theOrderVectorsTagIsTheHmacOfItsFirst28Bytes() throws Exception {
        byte[] o = Bytes.fromHex(Fixtures.s(message("Order"), "hex"));
        byte[] key = Bytes.fromHex(Fixtures.s(Fixtures.obj(v, "keys"), "orderKey"));
        assertArrayEquals(Bytes.slice(o, 28, 44), Bytes.slice(Seal.hmac(key, Bytes.slice(o, 0, 28)), 0, 16));
    }

    @Test
    void everySealVectorIsMadeExactlyAndOpens() throws Exception {
        List<Object> seals = Fixtures.list(v, "seal");
        assertFalse(seals.isEmpty());
        for (Object o : seals) {
            Seal.Keys k = new Seal.Keys((int) Fixtures.n(o, "keyId"), Bytes.fromHex(Fixtures.s(o, "enc")), Bytes.fromHex(Fixtures.s(o, "mac")));
            byte[] plain = Bytes.fromHex(Fixtures.s(o, "plaintext"));
            long seq = Fixtures.n(o, "seq");
            assertEquals(Fixtures.s(o, "envelope"), Bytes.toHex(Seal.seal(k, seq, plain)), "seq " + seq);
            Seal.Opened op = Seal.unseal(k, Bytes.fromHex(Fixtures.s(o, "envelope")));
            assertEquals(seq, op.seq);
            assertArrayEquals(plain, op.data);
        }
    }

    @Test
    void everyBase45VectorEncodesAndDecodes() {
        List<Object> list = Fixtures.list(v, "base45");
        assertFalse(list.isEmpty());
        for (Object o : list) {
            byte[] b = Bytes.fromHex(Fixtures.s(o, "hex"));
            assertEquals(Fixtures.s(o, "text"), Base45.encode(b));
            assertArrayEquals(b, Base45.decode(Fixtures.s(o, "text")));
        }
        assertNull(Base45.decode("GGW"), "a group above 65535");
        assertNull(Base45.decode("A"), "a length of 1 mod 3");
        assertNull(Base45.decode("a0"), "lower case is not in the alphabet");
    }

    @Test
    void everyUtrVectorFormatsAndParsesBack() {
        List<Object> list = Fixtures.list(v, "utr");
        assertFalse(list.isEmpty());
        for (Object o : list) {
            long t = Fixtures.n(o, "terminalId");
            long seq = Fixtures.n(o, "seq");
            assertEquals(Fixtures.s(o, "txId"), Bytes.toHex(Utr.txId(t, seq)));
            assertEquals(Fixtures.s(o, "utr"), Utr.of(t, seq));
            assertEquals(Fixtures.s(o, "utr"), Utr.of(Bytes.fromHex(Fixtures.s(o, "txId"))));
            assertArrayEquals(new long[] {t, seq}, Utr.parse(Fixtures.s(o, "utr").toLowerCase()));
        }
        assertNull(Utr.parse("0000-8940-00HB"), "a wrong check character");
        assertArrayEquals(new long[] {4242, 17}, Utr.parse("OOOO-894O-OOHA"), "O read as 0");
    }

    /** The terminal's side of a P2 code, for the tests: the Payment inside, or null when it does not open. */
    static byte[] openPaymentQr(String p2, byte[] request, byte[] sessionPriv, byte[] sessionPub) throws Exception {
        byte[] b = Base45.decode(p2.substring(2));
        byte[] walletEph = Bytes.slice(b, 0, 64);
        byte[] z = P256.ecdh(P256.privateKey(sessionPriv), walletEph);
        byte[] th = Bytes.sha256(QrSession.transcript(request, QrSession.compress(sessionPub), walletEph));
        try {
            Seal.Opened o = Seal.unseal(QrSession.keys(z, th), Bytes.slice(b, 64, b.length));
            return o.seq == 1 ? o.data : null;
        } catch (Seal.Broken e) {
            return null;
        }
    }

    @Test
    void theQrSessionVectorIsMadeExactlyAndOpens() throws Exception {
        Map<String, Object> q = Fixtures.obj(v, "qrSession");
        assertEquals("the Request vector", q.get("request"));
        assertEquals("the Payment vector", q.get("payment"));
        byte[] request = Bytes.fromHex(Fixtures.s(message("Request"), "hex"));
        byte[] payment = Bytes.fromHex(Fixtures.s(message("Payment"), "hex"));
        byte[] sessionPub = Bytes.fromHex(Fixtures.s(q, "sessionPub"));
        byte[] sessionKey = Bytes.fromHex(Fixtures.s(q, "sessionKey"));
        byte[] walletEph = Bytes.fromHex(Fixtures.s(q, "walletEph"));
        assertArrayEquals(sessionKey, QrSession.compress(sessionPub));
        assertArrayEquals(sessionPub, QrSession.decompress(sessionKey), "SEC 1 decompression gives Y back");
        assertEquals(Fixtures.s(q, "requestQr"), QrSession.requestText(request, sessionPub));
        QrSession.RequestQr r2 = QrSession.parseRequest(Fixtures.s(q, "requestQr") + "\r");
        assertArrayEquals(request, r2.request);
        assertArrayEquals(sessionKey, r2.sessionKey);
        byte[] z = Bytes.fromHex(Fixtures.s(q, "z"));
        assertArrayEquals(z, P256.ecdh(P256.privateKey(Bytes.fromHex(Fixtures.s(q, "walletEphPrivate"))), sessionPub), "Z from the wallet's side");
        assertArrayEquals(z, P256.ecdh(P256.privateKey(Bytes.fromHex(Fixtures.s(q, "sessionPrivate"))), walletEph), "Z from the terminal's side");
        byte[] th = Bytes.sha256(QrSession.transcript(request, sessionKey, walletEph));
        assertEquals(Fixtures.s(q, "th"), Bytes.toHex(th));
        Seal.Keys k = QrSession.keys(z, th);
        assertEquals(Fixtures.s(q, "enc"), Bytes.toHex(k.enc));
        assertEquals(Fixtures.s(q, "mac"), Bytes.toHex(k.mac));
        java.security.KeyPair eph = Fixtures.pair(Bytes.fromHex(Fixtures.s(q, "walletEphPrivate")), walletEph);
        assertEquals(Fixtures.s(q, "paymentQr"), QrSession.sealPayment(request, sessionKey, payment, eph), "P2 byte for byte");
        assertArrayEquals(payment, openPaymentQr(Fixtures.s(q, "paymentQr"), request, Bytes.fromHex(Fixtures.s(q, "sessionPrivate")), sessionPub));
        byte[] other = request.clone();
        other[9] ^= 1;
        assertNull(openPaymentQr(Fixtures.s(q, "paymentQr"), other, Bytes.fromHex(Fixtures.s(q, "sessionPrivate")), sessionPub), "a P2 opens only under its own request");
        assertNull(QrSession.decompress(Bytes.concat(new byte[] {2}, Bytes.fromHex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"))), "x = p is not a field element");
    }
}
