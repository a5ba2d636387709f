package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.security.KeyPair;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BleSessionTest {
    private final Fixtures.Keys keys = new Fixtures.Keys();
    private final int today = (int) (Fixtures.NOW_S / 86400);
    private final Map<Integer, byte[]> issuerKeys;

    BleSessionTest() throws Exception {
        issuerKeys = Collections.singletonMap(1, keys.issuerPub());
    }

    private FakeTerminal terminal(long amount) throws Exception {
        FakeTerminal t = new FakeTerminal();
        t.identity = keys.terminal;
        t.cert = Fixtures.cert(keys.issuer.getPrivate(), 1, 4242, 77, keys.terminalPub(), today + 30);
        t.request = Fixtures.request(keys.terminal.getPrivate(), 4242, amount, Fixtures.EUR, (byte) 9, Fixtures.NOW_S);
        return t;
    }

    private BleSession session(FakeTerminal t) throws Exception {
        return new BleSession(t, new BleSession.Options(issuerKeys, () -> Fixtures.NOW_S * 1000).timeoutMs(2000));
    }

    private Wallet wallet() throws Exception {
        return new Wallet(keys.wallet, Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), 5000, Fixtures.EUR, today + 10, 0), new WalletStore.Memory());
    }

    private static String code(Executable e) {
        OfflinePayException x = assertThrows(OfflinePayException.class, e::run);
        return x.code();
    }

    interface Executable {
        void run() throws Exception;
    }

    @Test
    void paysOverTheSessionAndChecksTheReceiptAgainstTheCertifiedKey() throws Exception {
        FakeTerminal t = terminal(990);
        BleSession s = session(t);
        BleSession.Info info = s.open();
        assertEquals(4242, info.terminalId);
        assertEquals(77, info.merchantId);
        long[] asked = {0};
        Wallet w = wallet();
        BleSession.Paid out = s.pay(w, p -> {
            asked[0] = p.amountMinor;
            return p.merchantId == 77;
        });
        assertEquals(990, asked[0]);
        assertTrue(out.receipt.signatureVerified);
        assertEquals(1, t.payments.size());
        assertArrayEquals(out.payment.bytes, t.payments.get(0), "the terminal got the payment, decrypted");
        assertTrue(P256.verify(keys.walletPub(), Messages.Payment.decode(t.payments.get(0)).walletSig, Bytes.concat(Messages.signedPart(t.payments.get(0)), t.request)));
        assertEquals(4010, w.remaining());
    }

    @Test
    void setsARelayBundleAsideWhilePayingAndKeepsItsBytesUnchangedInTheWallet() throws Exception {
        FakeTerminal t = terminal(990);
        byte[] bundle = Bytes.fromHex(Fixtures.s(Fixtures.obj(Fixtures.vectors(), "relay"), "bundle"));
        t.relay = bundle;
        BleSession s = session(t);
        s.open();
        Wallet w = wallet();
        BleSession.Paid out = s.pay(w, null);
        assertTrue(out.receipt.signatureVerified, "the receipt came after the bundle, and was checked");
        assertEquals(1, out.relayed);
        assertEquals(1, w.relayedBundles().size());
        assertArrayEquals(bundle, w.relayedBundles().get(0));
        assertTrue(s.relayed().isEmpty(), "taken by pay()");
    }

    @Test
    void takesARelayBundleOfFourRecordsOverTheTerminalsMessageLimit() throws Exception {
        FakeTerminal t = terminal(990);
        byte[] big = new byte[1404];
        big[0] = 1;
        big[1] = 0x50;
        t.relay = big;
        BleSession s = session(t);
        s.open();
        Wallet w = wallet();
        assertEquals(1, s.pay(w, null).relayed);
        assertEquals(1404, w.relayedBundles().get(0).length);
    }

    @Test
    void refusesACertificateTheIssuerDidNotSign() throws Exception {
        FakeTerminal t = terminal(10);
        KeyPair rogue = P256.generate();
        t.cert = Fixtures.cert(rogue.getPrivate(), 1, 4242, 77, keys.terminalPub(), today + 30);
        assertEquals("CERT_UNTRUSTED", code(() -> session(t).open()));
        t.cert = Fixtures.cert(keys.issuer.getPrivate(), 9, 4242, 77, keys.terminalPub(), today + 30);
        assertEquals("CERT_UNTRUSTED", code(() -> session(t).open()), "an issuer key ID the wallet does not hold");
    }

    @Test
    void refusesAnExpiredCertificateByTheAppsClock() throws Exception {
        FakeTerminal t = terminal(10);
        t.cert = Fixtures.cert(keys.issuer.getPrivate(), 1, 4242, 77, keys.terminalPub(), today - 1);
        assertEquals("CERT_EXPIRED", code(() -> session(t).open()));
        t.cert = Fixtures.cert(keys.issuer.getPrivate(), 1, 4242, 77, keys.terminalPub(), today);
        assertEquals(4242, session(t).open().terminalId, "valid through the end of its expiry day");
    }

    @Test
    void refusesASessionKeyNotSignedByTheCertifiedTerminal() throws Exception {
        FakeTerminal t = terminal(10);
        t.sessionSigner = P256.generate();
        assertEquals("SIGNATURE", code(() -> session(t).open()));
    }

    @Test
    void neverPaysARequestForAnotherTerminalOrNotSignedByTheCertifiedKey() throws Exception {
        FakeTerminal t = terminal(10);
        t.request = Fixtures.request(keys.terminal.getPrivate(), 4243, 10, Fixtures.EUR, (byte) 1, Fixtures.NOW_S);
        Wallet w = wallet();
        BleSession s = session(t);
        s.open();
        assertEquals("TERMINAL_MISMATCH", code(() -> s.pay(w, null)));
        FakeTerminal t2 = terminal(10);
        t2.request = Fixtures.request(P256.generate().getPrivate(), 4242, 10, Fixtures.EUR, (byte) 1, Fixtures.NOW_S);
        BleSession s2 = session(t2);
        s2.open();
        assertEquals("REQUEST_SIGNATURE", code(() -> s2.pay(w, null)));
        assertEquals(0, w.state().payments.size(), "nothing was paid");
        assertTrue(t.payments.isEmpty() && t2.payments.isEmpty());
    }

    @Test
    void aDeclinedPaymentSpendsNothing() throws Exception {
        FakeTerminal t = terminal(10);
        BleSession s = session(t);
        s.open();
        Wallet w = wallet();
        assertEquals("DECLINED", code(() -> s.pay(w, p -> false)));
        assertEquals(5000, w.remaining());
    }

    @Test
    void refusesATamperedOrReplayedMessage() throws Exception {
        FakeTerminal t = terminal(10);
        t.tamper = true;
        BleSession s = session(t);
        s.open();
        assertEquals("B03", code(s::next));
        FakeTerminal r = terminal(10);
        r.replay = true;
        BleSession s2 = session(r);
        s2.open();
        s2.next();
        assertEquals("B04", code(s2::next));
    }

    @Test
    void reportsTheTerminalsErrorCodeAndASilentTerminal() throws Exception {
        FakeTerminal t = terminal(10);
        t.errorCode = "B02";
        assertEquals("B02", code(() -> session(t).open()));
        FakeTerminal q = terminal(10);
        q.silent = true;
        BleSession s = new BleSession(q, new BleSession.Options(issuerKeys, () -> Fixtures.NOW_S * 1000).timeoutMs(100));
        assertEquals("TIMEOUT", code(s::open));
        assertEquals("STATE", code(() -> s.send(new byte[1])));
    }

    @Test
    void needsIssuerKeysAndAClock() throws Exception {
        assertEquals("NO_ISSUER_KEYS", code(() -> new BleSession.Options(Collections.emptyMap(), () -> 1)));
        assertEquals("NO_ISSUER_KEYS", code(() -> new BleSession.Options(Collections.singletonMap(1, new byte[10]), () -> 1)));
        assertEquals("NO_CLOCK", code(() -> new BleSession.Options(issuerKeys, null)));
        FakeTerminal t = terminal(10);
        assertEquals("NO_CLOCK", code(() -> new BleSession(t, new BleSession.Options(issuerKeys, () -> 0)).open()));
    }

    @Test
    void aSecondOpenIgnoresWhatTheFirstSessionLeftUnread() throws Exception {
        FakeTerminal t = terminal(10);
        BleSession s = session(t);
        s.open(); // the terminal's request waits, unread
        BleSession.Info again = s.open();
        assertEquals(4242, again.terminalId);
        assertEquals(10, Messages.Request.decode(s.next()).amountMinor, "the request of the new session, under its keys");
    }

    private byte[] vector(String name) throws Exception {
        for (Object m : Fixtures.list(Fixtures.vectors(), "messages")) if (name.equals(Fixtures.s(m, "name"))) return Bytes.fromHex(Fixtures.s(m, "hex"));
        throw new AssertionError(name);
    }

    @Test
    void relaysAPaidConfirmationForTheInvoiceTheCertifiedTerminalShows() throws Exception {
        FakeTerminal t = terminal(10);
        t.request = vector("Invoice"); // terminal 4242, invoice 9, 49.99, signed by the vectors' terminal key
        BleSession s = session(t);
        s.open();
        Messages.Receipt r = s.relayPaidConfirmation(vector("PaidConfirmation"));
        assertEquals(4242, Utr.terminalIdOf(r.txId));
        assertEquals(1, t.payments.size());
        assertArrayEquals(vector("PaidConfirmation"), t.payments.get(0), "the terminal got the confirmation, decrypted");
    }

    @Test
    void neverRelaysAConfirmationForAnotherInvoice() throws Exception {
        FakeTerminal t = terminal(10);
        t.request = vector("Invoice");
        byte[] other = vector("PaidConfirmation");
        Bytes.putU32(other, 6, 10); // invoice 10 (the signature no longer matters: it is never sent)
        BleSession s = session(t);
        s.open();
        assertEquals("B05", code(() -> s.relayPaidConfirmation(other)));
        assertTrue(t.payments.isEmpty(), "nothing sent");
        FakeTerminal u = terminal(10);
        byte[] forged = vector("Invoice");
        u.request = Fixtures.signed(forged, P256.generate().getPrivate());
        BleSession s2 = session(u);
        s2.open();
        assertEquals("REQUEST_SIGNATURE", code(() -> s2.relayPaidConfirmation(vector("PaidConfirmation"))));
    }
}
