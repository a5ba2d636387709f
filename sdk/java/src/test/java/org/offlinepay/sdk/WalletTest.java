package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.security.KeyPair;
import org.junit.jupiter.api.Test;

class WalletTest {
    private final Fixtures.Keys keys = new Fixtures.Keys();
    private final int today = (int) (Fixtures.NOW_S / 86400);

    WalletTest() throws Exception {}

    private byte[] allowance(int cap, int expiryDay, int start) throws Exception {
        return Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), cap, Fixtures.EUR, expiryDay, start);
    }

    private byte[] request(long amount) throws Exception {
        return Fixtures.request(keys.terminal.getPrivate(), 4242, amount, Fixtures.EUR, (byte) 7, Fixtures.NOW_S);
    }

    private static WalletException refused(ThrowingRunnable r) {
        return assertThrows(WalletException.class, r::run);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void paysARequestWithASignatureOverThePaymentAndTheRequest() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(5000, today + 10, 3), new WalletStore.Memory());
        byte[] q = request(1250);
        Wallet.PaymentOut p = w.pay(QrText.encode(q));
        assertEquals(206, p.bytes.length);
        assertEquals(311, p.qr.length());
        assertTrue(p.qr.startsWith("P1"));
        assertEquals(3, p.counter);
        Messages.Payment m = Messages.Payment.decode(p.bytes);
        assertEquals(3, m.counter);
        assertTrue(P256.verify(keys.walletPub(), m.walletSig, Bytes.concat(Messages.signedPart(p.bytes), q)));
        assertTrue(P256.verify(keys.issuerPub(), m.allowance.issuerSig, Messages.signedPart(m.allowance.bytes)), "the allowance inside is the issuer's");
        assertEquals(3750, w.remaining());
        assertEquals(11, p.frames.size());
    }

    @Test
    void takesTheNextCounterEachTimeAndSavesItBeforeSigning() throws Exception {
        int[] saves = {0};
        WalletStore.Memory mem = new WalletStore.Memory();
        WalletStore failing = new WalletStore() {
            public WalletState load() { return mem.load(); }
            public void save(WalletState s) throws IOException {
                if (++saves[0] == 4) throw new IOException("disk full");
                mem.save(s);
            }
        };
        Wallet w = new Wallet(keys.wallet, allowance(5000, today + 10, 0), failing);
        assertEquals(0, w.pay(request(100)).counter);
        // saves: allowance, reservation, record; the fourth is the reservation of the next payment: it fails, nothing is signed, the counter is not used
        WalletException e = refused(() -> w.pay(request(100)));
        assertEquals(WalletException.STORE, e.code());
        assertEquals(1, w.state().nextCounter);
        assertEquals(1, w.pay(request(100)).counter);
        assertEquals(2, w.state().payments.size());
    }

    @Test
    void refusesWhatTheTerminalWouldRefuseWithItsCode() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(1000, today + 10, 0), new WalletStore.Memory());
        assertEquals("R07", refused(() -> w.pay(request(1001))).code());
        assertEquals("R01", refused(() -> w.pay("HELLO")).code());
        assertEquals("R02", refused(() -> w.pay("R3" + QrText.encode(request(5)).substring(2))).code());
        assertEquals("R01", refused(() -> w.pay("R2" + QrText.encode(request(5)).substring(2))).code(), "an R2 without its session key is damaged, not newer");
        assertEquals("R01", refused(() -> w.pay(request(0))).code());
        byte[] usd = Fixtures.request(keys.terminal.getPrivate(), 4242, 100, 840, (byte) 1, Fixtures.NOW_S);
        assertEquals("R06", refused(() -> w.pay(usd)).code());
        Wallet old = new Wallet(keys.wallet, allowance(1000, today - 1, 0), new WalletStore.Memory());
        assertEquals("R05", refused(() -> old.pay(request(5))).code());
        Wallet other = new Wallet(P256.generate(), allowance(1000, today + 1, 0), new WalletStore.Memory());
        assertEquals("KEY", refused(() -> other.pay(request(5))).code());
        Wallet full = new Wallet(keys.wallet, allowance(1000, today + 1, 0xffff), new WalletStore.Memory());
        full.pay(request(1));
        assertEquals("COUNTER", refused(() -> full.pay(request(1))).code());
        assertEquals("ALLOWANCE", refused(() -> new Wallet(keys.wallet, new byte[140], new WalletStore.Memory())).code());
        assertEquals(0, w.state().payments.size(), "nothing refused was recorded");
    }

    @Test
    void checksTheTerminalsReceiptAndRecordsIt() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(5000, today + 10, 0), new WalletStore.Memory());
        Wallet.PaymentOut p = w.pay(request(1250));
        byte[] rc = Fixtures.receipt(keys.terminal.getPrivate(), Utr.txId(4242, 17), 0, Fixtures.NOW_S + 3, p.bytes);
        Wallet.ReceiptCheck r = w.checkReceipt(QrText.encode(rc), p.bytes, keys.terminalPub());
        assertTrue(r.signatureVerified);
        assertEquals("0000-8940-00HA", r.utr);
        assertEquals("0000109200000011", r.txId);
        WalletState.ReceiptInfo info = w.state().payments.get(0).receipt;
        assertEquals("0000109200000011", info.txId);
        assertEquals(Bytes.toHex(rc), info.bytes);

        Wallet.PaymentOut p2 = w.pay(request(10));
        assertEquals("MISMATCH", refused(() -> w.checkReceipt(rc, p2.bytes, keys.terminalPub())).code());
        byte[] forged = Fixtures.receipt(P256.generate().getPrivate(), Utr.txId(4242, 18), 0, Fixtures.NOW_S, p2.bytes);
        assertEquals("SIGNATURE", refused(() -> w.checkReceipt(forged, p2.bytes, keys.terminalPub())).code());
        assertEquals("RECEIPT", refused(() -> w.checkReceipt("X1ZZ", p2.bytes, null)).code());
        assertFalse(w.checkReceipt(forged, p2.bytes, null).signatureVerified, "no key: not verified, and says so");
    }

    @Test
    void aNewAllowanceRestartsSpendingButNeverLowersTheCounter() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(1000, today + 10, 5), new WalletStore.Memory());
        w.pay(request(900));
        w.pay(request(50));
        w.setAllowance(allowance(2000, today + 20, 2));
        assertEquals(7, w.state().nextCounter);
        assertEquals(2000, w.remaining());
        assertEquals(0, w.state().payments.size());
    }

    @Test
    void theFileStoreKeepsCountersAcrossARestart() throws Exception {
        File dir = Files.createTempDirectory("wallet").toFile();
        File f = new File(dir, "wallet.json");
        byte[] a = allowance(5000, today + 10, 40);
        Wallet w = new Wallet(keys.wallet, a, new FileWalletStore(f));
        Wallet.PaymentOut p = w.pay(request(100));
        w.checkReceipt(Fixtures.receipt(keys.terminal.getPrivate(), Utr.txId(4242, 1), 0, Fixtures.NOW_S, p.bytes), p.bytes, keys.terminalPub());
        Wallet again = new Wallet(keys.wallet, a, new FileWalletStore(f));
        assertEquals(41, again.pay(request(100)).counter);
        assertEquals(4800, again.remaining());
        assertNotNull(again.state().payments.get(0).receipt);
        assertFalse(new File(dir, "wallet.json.tmp").exists());
    }

    @Test
    void twoThreadsPayingAtOnceNeverShareACounter() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(100000, today + 10, 0), new WalletStore.Memory());
        java.util.Set<Integer> counters = java.util.Collections.synchronizedSet(new java.util.HashSet<>());
        Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(() -> {
                try {
                    for (int j = 0; j < 5; j++) counters.add(w.pay(request(1)).counter);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            ts[i].start();
        }
        for (Thread t : ts) t.join();
        assertEquals(20, counters.size());
        assertEquals(20, w.state().nextCounter);
    }

    @Test
    void aTerminalCertificateIsCheckedForIssuerExpiryAndTerminal() throws Exception {
        java.util.Map<Integer, byte[]> ik = java.util.Collections.singletonMap(1, keys.issuerPub());
        byte[] cert = Fixtures.cert(keys.issuer.getPrivate(), 1, 4242, 77, keys.terminalPub(), today);
        long now = Fixtures.NOW_S * 1000;
        assertEquals(77, TerminalCertificate.check(cert, ik, () -> now, 4242).merchantId);
        assertEquals("TERMINAL_MISMATCH", refused(() -> TerminalCertificate.check(cert, ik, () -> now, 4243)).code());
        assertEquals("CERT_EXPIRED", refused(() -> TerminalCertificate.check(cert, ik, () -> now + 86400000L, 4242)).code());
        assertEquals("CERT_UNTRUSTED", refused(() -> TerminalCertificate.check(cert, java.util.Collections.singletonMap(2, keys.issuerPub()), () -> now, 4242)).code());
        KeyPair rogue = P256.generate();
        byte[] selfMade = Fixtures.cert(rogue.getPrivate(), 1, 4242, 77, keys.terminalPub(), today);
        assertEquals("CERT_UNTRUSTED", refused(() -> TerminalCertificate.check(selfMade, ik, () -> now, 4242)).code());
        assertEquals("CERT_MALFORMED", refused(() -> TerminalCertificate.check(new byte[5], ik, () -> now, 4242)).code());
    }

    @Test
    void aDamagedStateFileStopsThePaymentWithStore() throws Exception {
        File f = new File(Files.createTempDirectory("wallet").toFile(), "wallet.json");
        byte[] a = allowance(5000, today + 10, 0);
        Wallet w = new Wallet(keys.wallet, a, new FileWalletStore(f));
        Files.write(f.toPath(), "{\"v\":1,\"allowanceId\":".getBytes());
        assertEquals("STORE", refused(() -> w.pay(request(10))).code());
    }

    @Test
    void answersAnEncryptedRequestWithAP2OnlyItsTerminalCanOpen() throws Exception {
        Wallet w = new Wallet(keys.wallet, allowance(5000, today + 10, 0), new WalletStore.Memory());
        KeyPair session = P256.generate();
        byte[] sessionPub = P256.raw(session.getPublic());
        byte[] q = request(640);
        String r2 = QrSession.requestText(q, sessionPub);
        assertEquals(184, r2.length());
        Wallet.PaymentOut p = w.pay(r2);
        assertTrue(p.encrypted);
        assertEquals(467, p.qr.length());
        assertTrue(p.qr.startsWith("P2"));
        byte[] d = ((java.security.interfaces.ECPrivateKey) session.getPrivate()).getS().toByteArray();
        byte[] s32 = new byte[32];
        System.arraycopy(d, Math.max(0, d.length - 32), s32, Math.max(0, 32 - d.length), Math.min(32, d.length));
        assertArrayEquals(p.bytes, VectorsTest.openPaymentQr(p.qr, q, s32, sessionPub));
        assertTrue(P256.verify(keys.walletPub(), Messages.Payment.decode(p.bytes).walletSig, Bytes.concat(Messages.signedPart(p.bytes), q)));
        assertFalse(p.qr.contains(Base45.encode(Bytes.slice(p.bytes, 0, 40))), "the payment is not in clear in the code");
        assertFalse(w.pay(q).encrypted, "Request bytes (Bluetooth) are answered with the plain payment");
        String bad = "R2" + Base45.encode(Bytes.concat(q, new byte[] {2}, Bytes.fromHex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")));
        assertEquals("R01", refused(() -> w.pay(bad)).code());
        assertEquals(2, w.state().payments.size(), "a request whose session key is no point spends nothing");
    }
}
