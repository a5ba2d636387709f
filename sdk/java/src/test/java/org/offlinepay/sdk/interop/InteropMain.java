package org.offlinepay.sdk.interop;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.offlinepay.sdk.BleSession;
import org.offlinepay.sdk.Bytes;
import org.offlinepay.sdk.FileWalletStore;
import org.offlinepay.sdk.GatewayClient;
import org.offlinepay.sdk.GatewayException;
import org.offlinepay.sdk.Json;
import org.offlinepay.sdk.Messages;
import org.offlinepay.sdk.OfflinePayException;
import org.offlinepay.sdk.P256;
import org.offlinepay.sdk.TerminalCertificate;
import org.offlinepay.sdk.Wallet;
import org.offlinepay.sdk.WalletState;

/**
 * The Java wallet as the TypeScript side's peer (test/java/java-sdk.test.ts): one JSON command a line on stdin, one
 * JSON answer a line on stdout ({"ok": true, ...} or {"ok": false, "code", "message"}). Everything the terminal and
 * the gateway see is made here, by the SDK: the key, the payment bytes, the BLE session, the signed API calls.
 *
 *   {"cmd":"init","gateway":URL,"adminToken":T,"capMinor":N,"balanceMinor":N,"state":FILE}
 *   {"cmd":"pay-qr","request":"R1..." or "R2..."}         -> {"qr":"P1..." or "P2...","payment":HEX,"counter":n}
 *   {"cmd":"check-receipt","receipt":"X1...","cert":HEX,"clockMs":N}
 *   {"cmd":"pay-ble","port":N,"clockMs":N}               (frames over SocketBleTransport)
 *   {"cmd":"relay-ble","port":N,"paid":HEX,"clockMs":N}  (a paid confirmation over the session)
 *   {"cmd":"sync"}  {"cmd":"claim","txId":HEX,"action":"dispute"}  {"cmd":"pay-invoice","invoice":TEXT}
 *   {"cmd":"keep-relay","bundle":HEX}                    (a terminal's relay bundle, uploaded at the next sync)
 */
public final class InteropMain {
    private Wallet wallet;
    private GatewayClient gateway;
    private Map<Integer, byte[]> issuerKeys;
    private Wallet.PaymentOut lastQrPayment;

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        InteropMain m = new InteropMain();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.trim().isEmpty()) continue;
            Map<String, Object> answer;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> c = (Map<String, Object>) Json.parse(line);
                answer = m.run(c);
                answer.put("ok", true);
            } catch (OfflinePayException e) {
                answer = new LinkedHashMap<>();
                answer.put("ok", false);
                answer.put("code", e.code());
                answer.put("message", e.getMessage());
            } catch (Exception e) {
                answer = new LinkedHashMap<>();
                answer.put("ok", false);
                answer.put("code", "EXCEPTION");
                answer.put("message", e.toString());
            }
            out.println(Json.write(answer));
        }
    }

    private static String str(Map<String, Object> c, String k) {
        return (String) c.get(k);
    }

    private static long num(Map<String, Object> c, String k) {
        return ((Number) c.get(k)).longValue();
    }

    private Map<String, Object> run(Map<String, Object> c) throws Exception {
        Map<String, Object> a = new LinkedHashMap<>();
        String cmd = str(c, "cmd");
        switch (cmd) {
            case "init": {
                gateway = new GatewayClient(str(c, "gateway"));
                GatewayClient.Info info = gateway.info();
                issuerKeys = info.issuerKeys();
                KeyPair keys = P256.generate();
                GatewayClient.Registration r = gateway.register(str(c, "adminToken"), P256.raw(keys.getPublic()), num(c, "capMinor"), 978, num(c, "balanceMinor"), null);
                wallet = new Wallet(keys, r.allowance, new FileWalletStore(new File(str(c, "state"))));
                a.put("walletId", wallet.walletId());
                a.put("publicKey", Bytes.toHex(wallet.publicKeyRaw()));
                a.put("remaining", wallet.remaining());
                return a;
            }
            case "keep-relay": {
                wallet.keepRelayed(Bytes.fromHex(str(c, "bundle")));
                a.put("relayKept", wallet.relayedBundles().size());
                return a;
            }
            case "pay-qr": {
                lastQrPayment = wallet.pay(str(c, "request"));
                a.put("qr", lastQrPayment.qr);
                a.put("payment", Bytes.toHex(lastQrPayment.bytes));
                a.put("counter", lastQrPayment.counter);
                return a;
            }
            case "check-receipt": {
                long now = num(c, "clockMs");
                Messages.TerminalCert cert = TerminalCertificate.check(Bytes.fromHex(str(c, "cert")), issuerKeys, () -> now, lastQrPayment.request.terminalId);
                Wallet.ReceiptCheck r = wallet.checkReceipt(str(c, "receipt"), lastQrPayment.bytes, cert.terminalPub);
                a.put("utr", r.utr);
                a.put("txId", r.txId);
                a.put("verified", r.signatureVerified);
                a.put("merchantId", cert.merchantId);
                return a;
            }
            case "pay-ble": {
                long now = num(c, "clockMs");
                try (SocketBleTransport t = new SocketBleTransport((int) num(c, "port"))) {
                    BleSession s = new BleSession(t, new BleSession.Options(issuerKeys, () -> now).timeoutMs(60000));
                    BleSession.Info info = s.open();
                    BleSession.Paid p = s.pay(wallet, prompt -> prompt.merchantId == info.merchantId);
                    a.put("utr", p.receipt.utr);
                    a.put("txId", p.receipt.txId);
                    a.put("verified", p.receipt.signatureVerified);
                    a.put("amountMinor", p.payment.request.amountMinor);
                    a.put("merchantId", p.merchantId);
                    a.put("terminalId", p.terminalId);
                    a.put("payment", Bytes.toHex(p.payment.bytes));
                    a.put("relayed", p.relayed);
                }
                return a;
            }
            case "sync": {
                GatewayClient.SyncResult r = gateway.sync(wallet);
                a.put("reported", r.reported);
                a.put("matched", r.matched);
                a.put("unreported", r.unreported);
                a.put("evidenced", r.evidenced);
                a.put("newAllowance", r.allowance != null);
                a.put("remaining", wallet.remaining());
                List<Object> relayed = new ArrayList<>();
                for (GatewayClient.RelayOutcome o : r.relayed) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("terminalId", o.terminalId);
                    x.put("acked", new ArrayList<Object>(o.acked));
                    x.put("rejected", new ArrayList<Object>(o.rejected));
                    relayed.add(x);
                }
                a.put("relayed", relayed);
                List<Object> refused = new ArrayList<>();
                for (GatewayException e : r.relayRefused) refused.add(e.code());
                a.put("relayRefused", refused);
                a.put("relayPending", r.relayPending);
                a.put("relayKept", wallet.relayedBundles().size());
                return a;
            }
            case "claim": {
                GatewayClient.Claim r = gateway.claimFraud(wallet, str(c, "txId"), str(c, "action"), "not my payment (interop test)");
                a.put("txId", r.txId);
                a.put("status", r.status);
                return a;
            }
            case "pay-invoice": {
                GatewayClient.PaidOnline p = gateway.payInvoice(wallet, str(c, "invoice"));
                a.put("qr", p.qr);
                a.put("paid", Bytes.toHex(p.paid));
                a.put("amountMinor", p.amountMinor);
                return a;
            }
            case "relay-ble": {
                long now = num(c, "clockMs");
                try (SocketBleTransport t = new SocketBleTransport((int) num(c, "port"))) {
                    BleSession s = new BleSession(t, new BleSession.Options(issuerKeys, () -> now).timeoutMs(60000));
                    s.open();
                    Messages.Receipt r = s.relayPaidConfirmation(Bytes.fromHex(str(c, "paid")));
                    a.put("txId", Bytes.toHex(r.txId));
                    a.put("status", r.status);
                }
                return a;
            }
            case "state": {
                WalletState s = wallet.state();
                a.put("state", Json.parse(s.toJson()));
                return a;
            }
            default:
                throw new IllegalArgumentException("unknown command " + cmd);
        }
    }
}
