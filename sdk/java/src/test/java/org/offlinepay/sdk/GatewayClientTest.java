package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The gateway client against a fake HTTP binding that checks each request as the gateway does (signature, time). */
class GatewayClientTest {
    private final Fixtures.Keys keys = new Fixtures.Keys();
    private final int today = (int) (Fixtures.NOW_S / 86400);

    GatewayClientTest() throws Exception {}

    /** Records requests; answers with the queued responses in turn. */
    static final class FakeHttp implements HttpTransport {
        final List<String[]> seen = new ArrayList<>();
        final List<Map<String, String>> headers = new ArrayList<>();
        final List<Response> answers = new ArrayList<>();
        boolean down;

        @Override
        public Response send(String method, String url, Map<String, String> h, String body) throws IOException {
            if (down) throw new IOException("connection refused");
            seen.add(new String[] {method, url, body});
            headers.add(h);
            if (answers.isEmpty()) throw new AssertionError("unexpected request " + method + " " + url);
            return answers.remove(0);
        }
    }

    private Wallet wallet() throws Exception {
        return new Wallet(keys.wallet, Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), 5000, Fixtures.EUR, today + 10, 0), new WalletStore.Memory());
    }

    @SuppressWarnings("unchecked")
    private void assertSignedByTheWallet(FakeHttp http, int i, String path) throws Exception {
        String sig = http.headers.get(i).get("x-wallet-signature");
        String body = http.seen.get(i)[2];
        assertTrue(P256.verify(keys.walletPub(), Bytes.fromHex(sig), GatewayClient.walletRequestBytes("POST", path, body)), "signed over method, path and body");
        assertFalse(P256.verify(keys.walletPub(), Bytes.fromHex(sig), GatewayClient.walletRequestBytes("POST", path, body + " ")));
    }

    @Test
    void syncReportsEveryPaymentWithItsEvidenceAndTakesTheNewAllowance() throws Exception {
        Wallet w = wallet();
        byte[] q = Fixtures.request(keys.terminal.getPrivate(), 4242, 700, Fixtures.EUR, (byte) 3, Fixtures.NOW_S);
        Wallet.PaymentOut p = w.pay(q);
        byte[] rc = Fixtures.receipt(keys.terminal.getPrivate(), Utr.txId(4242, 5), 0, Fixtures.NOW_S, p.bytes);
        w.checkReceipt(rc, p.bytes, keys.terminalPub());
        w.pay(Fixtures.request(keys.terminal.getPrivate(), 4242, 100, Fixtures.EUR, (byte) 4, Fixtures.NOW_S)); // no receipt
        byte[] fresh = Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), 6000, Fixtures.EUR, today + 40, 2);
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(200, "{\"walletId\":\"" + w.walletId() + "\",\"allowance\":\"" + Base64.getEncoder().encodeToString(fresh)
                + "\",\"denied\":false,\"matched\":[\"r1\"],\"unreported\":[],\"evidenced\":[\"0000424200000005\"],\"balances\":{\"available\":5}}"));
        GatewayClient g = new GatewayClient("http://gw.test/", http, () -> 1000);
        GatewayClient.SyncResult r = g.sync(w);
        assertEquals("http://gw.test/v1/wallets/" + w.walletId() + "/sync", http.seen.get(0)[1]);
        assertSignedByTheWallet(http, 0, "/v1/wallets/" + w.walletId() + "/sync");
        Map<String, Object> body = (Map<String, Object>) Json.parse(http.seen.get(0)[2]);
        assertEquals(1000L, body.get("time"));
        List<Object> spent = (List<Object>) body.get("spent");
        assertEquals(2, spent.size());
        assertEquals(Base64.getEncoder().encodeToString(rc), Fixtures.s(spent.get(0), "receipt"));
        assertEquals(Base64.getEncoder().encodeToString(q), Fixtures.s(spent.get(0), "request"));
        assertEquals(Base64.getEncoder().encodeToString(p.bytes), Fixtures.s(spent.get(0), "payment"));
        assertNull(((Map<String, Object>) spent.get(1)).get("receipt"), "no receipt: no evidence, all three or none");
        assertEquals(100L, Fixtures.n(spent.get(1), "amountMinor"));
        assertEquals(List.of("0000424200000005"), r.evidenced);
        assertEquals(6000, w.remaining(), "the new allowance is the wallet's");
        assertEquals(2, w.state().nextCounter);
    }

    @Test
    void theTimeRisesFromCallToCallEvenWhenTheClockDoesNot() throws Exception {
        Wallet w = wallet();
        FakeHttp http = new FakeHttp();
        for (int i = 0; i < 3; i++) http.answers.add(new HttpTransport.Response(200, "{\"available\":1}"));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 5000);
        for (int i = 0; i < 3; i++) g.balance(w);
        for (int i = 0; i < 3; i++) assertEquals(5000L + i, Fixtures.n(Json.parse(http.seen.get(i)[2]), "time"));
    }

    @Test
    void aRefusalIsAGatewayExceptionWithTheGatewaysCode() throws Exception {
        Wallet w = wallet();
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(409, "{\"error\":\"ALREADY_DISPUTED\",\"message\":\"already disputed\"}"));
        http.answers.add(new HttpTransport.Response(502, "<html>bad gateway</html>"));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 5000);
        GatewayException e = assertThrows(GatewayException.class, () -> g.claimFraud(w, "0000109200000011", "dispute", "not me"));
        assertEquals("ALREADY_DISPUTED", e.code());
        assertEquals(409, e.status());
        assertSignedByTheWallet(http, 0, "/v1/wallets/" + w.walletId() + "/claims");
        assertEquals("BAD_ANSWER", assertThrows(GatewayException.class, () -> g.claimFraud(w, "0000109200000011", "dispute", null)).code());
        http.down = true;
        assertEquals("NETWORK", assertThrows(GatewayException.class, () -> g.balance(w)).code());
    }

    @Test
    void syncUploadsEachRelayBundleUnchangedFirstAndLetsGoOfWhatTheGatewayTookOrRefusedForGood() throws Exception {
        Wallet w = wallet();
        byte[] taken = Bytes.fromHex(Fixtures.s(Fixtures.obj(Fixtures.vectors(), "relay"), "bundle"));
        byte[] tampered = taken.clone();
        tampered[tampered.length - 1] ^= 1;
        byte[] later = taken.clone();
        later[40] ^= 1;
        w.keepRelayed(taken);
        w.keepRelayed(tampered);
        w.keepRelayed(later);
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(200, "{\"terminalId\":4242,\"acked\":[5,6],\"rejected\":[]}"));
        http.answers.add(new HttpTransport.Response(400, "{\"error\":\"RELAY_AUTH\",\"message\":\"relay bundle failed authentication (tag)\"}"));
        http.answers.add(new HttpTransport.Response(503, "{\"error\":\"BUSY\",\"message\":\"try again\"}"));
        http.answers.add(new HttpTransport.Response(200, "{\"walletId\":\"" + w.walletId() + "\",\"allowance\":null,\"denied\":false,\"matched\":[],\"unreported\":[],\"evidenced\":[],\"balances\":{}}"));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 5000);
        GatewayClient.SyncResult r = g.sync(w);
        String relayPath = "/v1/wallets/" + w.walletId() + "/relay";
        for (int i = 0; i < 3; i++) {
            assertEquals("http://gw.test" + relayPath, http.seen.get(i)[1]);
            assertSignedByTheWallet(http, i, relayPath);
        }
        assertEquals(Base64.getEncoder().encodeToString(taken), Fixtures.s(Json.parse(http.seen.get(0)[2]), "bundle"), "the bytes as the terminal sent them");
        assertEquals("http://gw.test/v1/wallets/" + w.walletId() + "/sync", http.seen.get(3)[1], "then the wallet's own report");
        assertEquals(1, r.relayed.size());
        assertEquals(List.of(5L, 6L), r.relayed.get(0).acked);
        assertEquals(4242, r.relayed.get(0).terminalId);
        assertEquals("RELAY_AUTH", r.relayRefused.get(0).code());
        assertEquals(1, r.relayPending);
        assertEquals(1, w.relayedBundles().size(), "only the one that failed for now is kept");
        assertArrayEquals(later, w.relayedBundles().get(0));
    }

    @Test
    void aRelayBundleThatCannotBeSentStaysAndTheSyncStillFailsAsBefore() throws Exception {
        Wallet w = wallet();
        w.keepRelayed(Bytes.fromHex(Fixtures.s(Fixtures.obj(Fixtures.vectors(), "relay"), "bundle")));
        FakeHttp http = new FakeHttp();
        http.down = true;
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 5000);
        assertEquals("NETWORK", assertThrows(GatewayException.class, () -> g.sync(w)).code());
        assertEquals(1, w.relayedBundles().size());
        assertEquals("RELAY", assertThrows(WalletException.class, () -> w.keepRelayed(new byte[] {1, 0x11, 0})).code());
    }

    @Test
    void payInvoiceSendsTheInvoiceFromThePayUrlAndChecksTheConfirmationIsForIt() throws Exception {
        Map<String, Object> v = Fixtures.vectors();
        String inv = null, paid = null;
        for (Object m : Fixtures.list(v, "messages")) {
            if ("Invoice".equals(Fixtures.s(m, "name"))) inv = Fixtures.s(m, "hex");
            if ("PaidConfirmation".equals(Fixtures.s(m, "name"))) paid = Fixtures.s(m, "hex");
        }
        String url = "https://pay.example.com/pay#" + Base64.getUrlEncoder().withoutPadding().encodeToString(Bytes.fromHex(inv));
        Wallet w = wallet();
        FakeHttp http = new FakeHttp();
        String answer = "{\"paid\":\"" + Base64.getEncoder().encodeToString(Bytes.fromHex(paid)) + "\",\"qr\":\"C1X\",\"paymentRef\":\"a1\",\"terminalId\":4242,\"invoiceNo\":9,\"amountMinor\":4999,\"currency\":978}";
        http.answers.add(new HttpTransport.Response(200, answer));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 5000);
        GatewayClient.PaidOnline p = g.payInvoice(w, url);
        assertEquals(4999, p.amountMinor);
        Map<String, Object> body = (Map<String, Object>) Json.parse(http.seen.get(0)[2]);
        assertEquals(Base64.getEncoder().encodeToString(Bytes.fromHex(inv)), body.get("invoice"));
        assertEquals("wallet", body.get("method"));
        assertEquals(w.walletId(), body.get("walletId"));
        assertSignedByTheWallet(http, 0, "/v1/invoices/pay");
        assertEquals("BAD_INVOICE", assertThrows(GatewayException.class, () -> g.payInvoice(w, "R1XYZ0")).code());
        // a confirmation for another invoice is refused
        byte[] other = Bytes.fromHex(paid);
        other[9] ^= 1;
        http.answers.add(new HttpTransport.Response(200, answer.replace(Base64.getEncoder().encodeToString(Bytes.fromHex(paid)), Base64.getEncoder().encodeToString(other))));
        assertEquals("BAD_ANSWER", assertThrows(GatewayException.class, () -> g.payInvoice(w, url)).code());
    }

    @Test
    void registerUsesTheAdminTokenAndReturnsTheFirstAllowance() throws Exception {
        byte[] a = Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), 5000, Fixtures.EUR, today + 10, 0);
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(201, "{\"walletId\":\"abc\",\"allowance\":\"" + Base64.getEncoder().encodeToString(a) + "\"}"));
        GatewayClient.Registration r = new GatewayClient("http://gw.test", http, () -> 1).register("adm_x", keys.walletPub(), 5000, 978, 9000, "+447700900001");
        assertArrayEquals(a, r.allowance);
        assertEquals("Bearer adm_x", http.headers.get(0).get("authorization"));
        assertEquals(Bytes.toHex(keys.walletPub()), Fixtures.s(Json.parse(http.seen.get(0)[2]), "publicKey"));
    }

    @Test
    void loadAllowanceGivesTheNewAllowanceToTheWalletAndKeepsTheOldOneWhenRefused() throws Exception {
        Wallet w = wallet();
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(402, "{\"error\":\"INSUFFICIENT_FUNDS\",\"message\":\"available 10, cap 9000\"}"));
        byte[] fresh = Fixtures.allowance(keys.issuer.getPrivate(), 1, keys.walletPub(), 9000, Fixtures.EUR, today + 30, 0);
        http.answers.add(new HttpTransport.Response(200, "{\"allowance\":\"" + Base64.getEncoder().encodeToString(fresh) + "\",\"balances\":{}}"));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 7);
        GatewayException e = assertThrows(GatewayException.class, () -> g.loadAllowance(w, 9000));
        assertEquals("INSUFFICIENT_FUNDS", e.code());
        assertEquals(402, e.status());
        assertEquals(5000, w.remaining(), "the old allowance stays");
        assertArrayEquals(fresh, g.loadAllowance(w, 9000));
        assertEquals(9000, w.remaining());
        assertEquals(9000L, Fixtures.n(Json.parse(http.seen.get(1)[2]), "capMinor"));
        assertSignedByTheWallet(http, 1, "/v1/wallets/" + w.walletId() + "/allowance");
    }

    @Test
    void aDamagedAnswerIsBadResponseNotACrash() throws Exception {
        Wallet w = wallet();
        FakeHttp http = new FakeHttp();
        http.answers.add(new HttpTransport.Response(200, "{\"allowance\":\"not base64!\"}"));
        http.answers.add(new HttpTransport.Response(200, "{\"transactions\":5}"));
        GatewayClient g = new GatewayClient("http://gw.test", http, () -> 7);
        assertEquals("BAD_ANSWER", assertThrows(GatewayException.class, () -> g.loadAllowance(w, 0)).code());
        assertEquals("BAD_ANSWER", assertThrows(GatewayException.class, () -> g.transactions(w)).code());
    }
}
