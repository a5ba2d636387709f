package org.offlinepay.sdk;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The wallet's calls to the issuer's gateway (docs/gateway-api.yaml, tag "wallet"): register (an issuer operator's
 * call, with its admin token), load an allowance, sync (what the wallet paid, with receipts), pay an invoice online,
 * claim fraud, balance and transactions. Each wallet call is signed by the wallet key: header x-wallet-signature =
 * R||S over SHA-256("offline-pay wallet-api v1\n" + METHOD + "\n" + path + "\n" + body), and the body's `time` (Unix
 * ms) rises strictly from call to call (the gateway refuses a replay, 409 REPLAY). Calls block: off the main thread.
 */
public final class GatewayClient {
    static final String WALLET_API_LABEL = "offline-pay wallet-api v1";

    private final String base;
    private final HttpTransport http;
    private final LongSupplier clockMs;
    private long lastTime;

    /**
     * @param baseUrl the gateway, e.g. "https://pay.example.com" (requests go to baseUrl + "/v1/..."; the path the
     *     wallet signs is the URL's path, so a proxy in front must not rewrite it)
     * @param http the HTTP binding (new HttpTransport.UrlConnection(15000) by default)
     * @param clockMs the app's clock, Unix ms (the gateway only needs it to rise; System::currentTimeMillis)
     */
    public GatewayClient(String baseUrl, HttpTransport http, LongSupplier clockMs) {
        String b = baseUrl;
        while (b.endsWith("/")) b = b.substring(0, b.length() - 1);
        this.base = b;
        this.http = http;
        this.clockMs = clockMs;
    }

    public GatewayClient(String baseUrl) {
        this(baseUrl, new HttpTransport.UrlConnection(15000), System::currentTimeMillis);
    }

    /** The gateway's public keys and clock (GET /v1/info). */
    public static final class Info {
        public final long time;
        public final int issuerKeyId;
        public final byte[] issuerPublicKey;

        Info(long time, int issuerKeyId, byte[] issuerPublicKey) {
            this.time = time;
            this.issuerKeyId = issuerKeyId;
            this.issuerPublicKey = issuerPublicKey;
        }

        /** {issuerKeyId: issuerPublicKey}, for BleSession.Options and TerminalCertificate.check. */
        public Map<Integer, byte[]> issuerKeys() {
            return Collections.singletonMap(issuerKeyId, issuerPublicKey.clone());
        }
    }

    public Info info() throws GatewayException {
        Map<String, Object> r = call("GET", "/v1/info", null, Collections.emptyMap());
        return new Info(num(r, "time"), (int) num(r, "issuerKeyId"), hex(r, "issuerPublicKey"));
    }

    /** A registered wallet: its ID and first allowance. */
    public static final class Registration {
        public final String walletId;
        public final byte[] allowance;

        Registration(String walletId, byte[] allowance) {
            this.walletId = walletId;
            this.allowance = allowance;
        }
    }

    /**
     * Registers a wallet key (POST /v1/wallets). An issuer operator's call: `adminToken` is the gateway's admin
     * bearer token, which never belongs in a shipped app (the issuer's back end makes this call at enrolment).
     * balanceMinor must cover capMinor (402 INSUFFICIENT_FUNDS); phone (E.164) is where the payer's SMS go, or null.
     */
    public Registration register(String adminToken, byte[] publicKeyRaw, long capMinor, int currency, long balanceMinor, String phone) throws GatewayException {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("publicKey", Bytes.toHex(publicKeyRaw));
        b.put("capMinor", capMinor);
        b.put("currency", currency);
        b.put("balanceMinor", balanceMinor);
        if (phone != null) b.put("phone", phone);
        Map<String, Object> r = call("POST", "/v1/wallets", Json.write(b), Collections.singletonMap("authorization", "Bearer " + adminToken));
        return new Registration(str(r, "walletId"), b64(r, "allowance"));
    }

    /**
     * Loads the offline purse with a new allowance (POST /v1/wallets/{id}/allowance) and gives it to the wallet.
     * capMinor: 0 or less for the wallet's cap. 402 INSUFFICIENT_FUNDS (the old allowance stays), 403 WALLET_DENIED.
     */
    public byte[] loadAllowance(Wallet wallet, long capMinor) throws GatewayException, WalletException {
        Map<String, Object> b = new LinkedHashMap<>();
        if (capMinor > 0) b.put("capMinor", capMinor);
        Map<String, Object> r = walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/allowance", b);
        byte[] a = b64(r, "allowance");
        wallet.setAllowance(a);
        return a;
    }

    /** What a sync answered. */
    public static final class SyncResult {
        /** The new allowance (already given to the wallet), or null (denied, or none could be reserved). */
        public final byte[] allowance;
        public final boolean denied;
        /** INSUFFICIENT_FUNDS when no new allowance could be reserved (the old one stays live), else null. */
        public final String allowanceError;
        /** Ledger refs this report approved; held payments the report did not mention; txIds entered from receipts. */
        public final List<String> matched, unreported, evidenced;
        /** The wallet's balances (available, purses, debt, disputed) as the gateway returned them. */
        public final Map<String, Object> balances;
        /** How many payments the report carried. */
        public final int reported;
        /** Relay bundles the gateway took at this sync (let go by the wallet since): each terminal's upload answer. */
        public final List<RelayOutcome> relayed = new ArrayList<>();
        /** Relay bundles the gateway will never take (RELAY_AUTH: changed; UNKNOWN_TERMINAL ...): let go too. */
        public final List<GatewayException> relayRefused = new ArrayList<>();
        /** Relay bundles kept for the next sync because their upload failed for now (network, gateway trouble). */
        public int relayPending;

        SyncResult(byte[] allowance, boolean denied, String allowanceError, List<String> matched, List<String> unreported, List<String> evidenced, Map<String, Object> balances, int reported) {
            this.allowance = allowance;
            this.denied = denied;
            this.allowanceError = allowanceError;
            this.matched = matched;
            this.unreported = unreported;
            this.evidenced = evidenced;
            this.balances = balances;
            this.reported = reported;
        }
    }

    /** The gateway's answer to one relay bundle (POST /v1/wallets/{id}/relay): the terminal's upload reply. */
    public static final class RelayOutcome {
        public final long terminalId;
        /** Journal seqs the gateway holds (entered now or already). */
        public final List<Long> acked;
        /** Seqs it will never enter, with code and message, as "seq code: message". */
        public final List<String> rejected;

        RelayOutcome(long terminalId, List<Long> acked, List<String> rejected) {
            this.terminalId = terminalId;
            this.acked = Collections.unmodifiableList(acked);
            this.rejected = Collections.unmodifiableList(rejected);
        }
    }

    /** Refusals after which a relay bundle is never offered again: the gateway will not take it whatever happens. */
    private static final List<String> RELAY_FINAL = Arrays.asList("RELAY_AUTH", "RELAY_FORMAT", "RELAY_CONTENT", "REQ_FORMAT", "UNKNOWN_TERMINAL", "TERMINAL_REVOKED");

    /** sync(wallet, 0, the relay bundles the wallet keeps). */
    public SyncResult sync(Wallet wallet) throws GatewayException, WalletException {
        return sync(wallet, 0, null);
    }

    /**
     * Uploads one relay bundle (POST /v1/wallets/{id}/relay, docs/protocol.md "Relayed records"): the gateway opens
     * it under its terminal's keys and enters each record once. 400 RELAY_AUTH (changed on the way, or not that
     * terminal's), RELAY_FORMAT, RELAY_CONTENT; 404 UNKNOWN_TERMINAL; 403 TERMINAL_REVOKED.
     */
    @SuppressWarnings("unchecked")
    public RelayOutcome relay(Wallet wallet, byte[] bundle) throws GatewayException {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("bundle", Base64.getEncoder().encodeToString(bundle));
        Map<String, Object> r = walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/relay", b);
        List<Long> acked = new ArrayList<>();
        if (r.get("acked") instanceof List) for (Object o : (List<Object>) r.get("acked")) if (o instanceof Number) acked.add(((Number) o).longValue());
        List<String> rejected = new ArrayList<>();
        if (r.get("rejected") instanceof List) {
            for (Object o : (List<Object>) r.get("rejected")) {
                if (o instanceof Map) {
                    Map<String, Object> x = (Map<String, Object>) o;
                    rejected.add(x.get("seq") + " " + x.get("code") + ": " + x.get("message"));
                }
            }
        }
        return new RelayOutcome(num(r, "terminalId"), acked, rejected);
    }

    /**
     * Reports every payment the wallet made under its allowance, with the request, payment and receipt as evidence
     * where it has the receipt (POST /v1/wallets/{id}/sync), and takes the fresh allowance. The wallet is locked for
     * the call (no payment while a sync runs), so nothing paid in between is dropped with the old allowance.
     *
     * Relay bundles go first, one call each (relay()): a bundle the gateway took, or refused for good (RELAY_AUTH,
     * RELAY_FORMAT, RELAY_CONTENT, REQ_FORMAT, UNKNOWN_TERMINAL, TERMINAL_REVOKED), is let go from the wallet; one
     * whose upload failed otherwise (no network, 5xx) stays for the next sync, and the wallet's own report goes on.
     *
     * @param relayedTerminalRecords relay bundles an offline terminal handed the phone to carry to the gateway (the
     *     bytes BleSession.relayed() gave); null: those the wallet keeps (Wallet.relayedBundles(), as BleSession.pay
     *     keeps them)
     */
    public SyncResult sync(Wallet wallet, long capMinor, List<byte[]> relayedTerminalRecords) throws GatewayException, WalletException {
        List<RelayOutcome> took = new ArrayList<>();
        List<GatewayException> refused = new ArrayList<>();
        int pending = 0;
        for (byte[] bundle : relayedTerminalRecords != null ? relayedTerminalRecords : wallet.relayedBundles()) {
            try {
                took.add(relay(wallet, bundle));
                wallet.dropRelayed(bundle);
            } catch (GatewayException e) {
                if (e.status() >= 400 && e.status() < 500 && RELAY_FINAL.contains(e.code())) {
                    refused.add(e);
                    wallet.dropRelayed(bundle);
                } else pending++;
            }
        }
        SyncResult out = report(wallet, capMinor);
        out.relayed.addAll(took);
        out.relayRefused.addAll(refused);
        out.relayPending = pending;
        return out;
    }

    private SyncResult report(Wallet wallet, long capMinor) throws GatewayException, WalletException {
        synchronized (wallet) {
            WalletState s = wallet.state();
            List<Object> spent = new ArrayList<>();
            for (WalletState.PaymentRecord p : s.payments) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("counter", p.counter);
                e.put("terminalId", p.terminalId);
                e.put("amountMinor", p.amountMinor);
                if (p.receipt != null && p.receipt.bytes != null && p.payment != null && !p.payment.isEmpty()) {
                    e.put("request", b64(p.request));
                    e.put("payment", b64(p.payment));
                    e.put("receipt", b64(p.receipt.bytes));
                }
                spent.add(e);
            }
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("spent", spent);
            if (capMinor > 0) b.put("capMinor", capMinor);
            Map<String, Object> r = walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/sync", b);
            byte[] allowance = r.get("allowance") == null ? null : b64(r, "allowance");
            if (allowance != null) wallet.setAllowance(allowance);
            return new SyncResult(allowance, Boolean.TRUE.equals(r.get("denied")), r.get("allowanceError") instanceof String ? (String) r.get("allowanceError") : null,
                    strings(r, "matched"), strings(r, "unreported"), strings(r, "evidenced"), map(r, "balances"), spent.size());
        }
    }

    /** An invoice paid online: the issuer-signed PaidConfirmation to show the terminal (QR, or over Bluetooth). */
    public static final class PaidOnline {
        public final byte[] paid;
        public final String qr, paymentRef;
        public final long terminalId, invoiceNo, amountMinor;
        public final int currency;

        PaidOnline(Map<String, Object> r) throws GatewayException {
            paid = b64(r, "paid");
            qr = str(r, "qr");
            paymentRef = str(r, "paymentRef");
            terminalId = num(r, "terminalId");
            invoiceNo = num(r, "invoiceNo");
            amountMinor = num(r, "amountMinor");
            currency = (int) num(r, "currency");
        }
    }

    /**
     * Pays a terminal's invoice from the wallet's online balance (POST /v1/invoices/pay, method wallet). `invoice`
     * is the scanned QR text: the pay URL `<gateway>/pay#...` or "I1...". 402 INSUFFICIENT_FUNDS, 409 INVOICE_PAID,
     * INVOICE_EXPIRED, 403 WALLET_DENIED; BAD_INVOICE (also when the text is no invoice, before anything is sent).
     */
    public PaidOnline payInvoice(Wallet wallet, String invoiceText) throws GatewayException, WalletException {
        QrText.Result inv = QrText.decodeInvoice(invoiceText);
        if (!inv.ok()) throw new GatewayException(0, "BAD_INVOICE", "the scanned code is not an invoice");
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("invoice", Base64.getEncoder().encodeToString(inv.msg));
        b.put("method", "wallet");
        b.put("walletId", wallet.walletId());
        PaidOnline p = new PaidOnline(walletCall(wallet, "/v1/invoices/pay", b));
        Messages.PaidConfirmation c = Messages.PaidConfirmation.decode(p.paid);
        Messages.Invoice i = Messages.Invoice.decode(inv.msg);
        if (c == null || i == null || c.terminalId != i.terminalId || c.invoiceNo != i.invoiceNo || c.amountMinor != i.amountMinor) {
            throw new GatewayException(200, GatewayException.BAD_ANSWER, "the gateway's confirmation is not for this invoice");
        }
        return p;
    }

    /** A claim's outcome: the transaction and its new status (e.g. "disputed", "reversed"). */
    public static final class Claim {
        public final String txId, status;

        Claim(String txId, String status) {
            this.txId = txId;
            this.status = status;
        }
    }

    /**
     * Claims fraud on one of the wallet's payments (POST /v1/wallets/{id}/claims): action "dispute" (frozen for the
     * merchant's review) or "reverse" (taken back; a payment the wallet confirmed at a sync can only be disputed).
     * 404 UNKNOWN_TRANSACTION, 409 ALREADY_DISPUTED, ALREADY_REVERSED, CONFIRMED_BY_WALLET.
     */
    public Claim claimFraud(Wallet wallet, String txIdHex, String action, String reason) throws GatewayException, WalletException {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("txId", txIdHex);
        b.put("action", action);
        if (reason != null) b.put("reason", reason);
        Map<String, Object> r = walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/claims", b);
        return new Claim(str(r, "txId"), str(r, "status"));
    }

    /** The wallet's balances (available, purses, debt, disputed), as the gateway returns them. */
    public Map<String, Object> balance(Wallet wallet) throws GatewayException, WalletException {
        return walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/balance", new LinkedHashMap<>());
    }

    /** The wallet's payments at every merchant, with their status and hold deadline (JSON objects). */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> transactions(Wallet wallet) throws GatewayException, WalletException {
        Object t = walletCall(wallet, "/v1/wallets/" + wallet.walletId() + "/transactions", new LinkedHashMap<>()).get("transactions");
        if (!(t instanceof List)) throw new GatewayException(200, GatewayException.BAD_ANSWER, "transactions: not a list");
        return (List<Map<String, Object>>) t;
    }

    // ---------------------------------------------------------------- the exchange

    /** The bytes a wallet signs for a request (docs/gateway-api.yaml, "Wallet" authentication). */
    static byte[] walletRequestBytes(String method, String path, String body) {
        return (WALLET_API_LABEL + "\n" + method + "\n" + path + "\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    private Map<String, Object> walletCall(Wallet wallet, String path, Map<String, Object> body) throws GatewayException {
        long t;
        synchronized (this) {
            t = Math.max(clockMs.getAsLong(), lastTime + 1);
            lastTime = t;
        }
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("time", t);
        b.putAll(body);
        String text = Json.write(b);
        String signedPath = URI.create(base + path).getRawPath();
        String sig;
        try {
            sig = Bytes.toHex(P256.sign(wallet.keyPair().getPrivate(), walletRequestBytes("POST", signedPath, text)));
        } catch (GeneralSecurityException e) {
            throw new GatewayException(0, "CRYPTO", "the wallet key could not sign the request: " + e.getMessage(), e);
        }
        return call("POST", path, text, Collections.singletonMap("x-wallet-signature", sig));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> call(String method, String path, String body, Map<String, String> extra) throws GatewayException {
        Map<String, String> h = new LinkedHashMap<>(extra);
        if (body != null) h.put("content-type", "application/json");
        h.put("accept", "application/json");
        HttpTransport.Response res;
        try {
            res = http.send(method, base + path, h, body);
        } catch (IOException e) {
            throw new GatewayException(0, GatewayException.NETWORK, "the gateway did not answer: " + e.getMessage(), e);
        }
        Object v;
        try {
            v = Json.parse(res.body);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(res.status, GatewayException.BAD_ANSWER, "HTTP " + res.status + " with a body that is not JSON", e);
        }
        if (!(v instanceof Map)) throw new GatewayException(res.status, GatewayException.BAD_ANSWER, "HTTP " + res.status + ": not a JSON object");
        Map<String, Object> m = (Map<String, Object>) v;
        if (res.status >= 300) {
            String code = m.get("error") instanceof String ? (String) m.get("error") : "HTTP_" + res.status;
            String msg = m.get("message") instanceof String ? (String) m.get("message") : "HTTP " + res.status;
            throw new GatewayException(res.status, code, msg);
        }
        return m;
    }

    private static String b64(String hex) {
        return Base64.getEncoder().encodeToString(Bytes.fromHex(hex));
    }

    private static String str(Map<String, Object> r, String k) throws GatewayException {
        Object v = r.get(k);
        if (!(v instanceof String)) throw new GatewayException(200, GatewayException.BAD_ANSWER, k + ": a string expected");
        return (String) v;
    }

    private static long num(Map<String, Object> r, String k) throws GatewayException {
        Object v = r.get(k);
        if (!(v instanceof Number)) throw new GatewayException(200, GatewayException.BAD_ANSWER, k + ": a number expected");
        return ((Number) v).longValue();
    }

    private static byte[] hex(Map<String, Object> r, String k) throws GatewayException {
        try {
            return Bytes.fromHex(str(r, k));
        } catch (IllegalArgumentException e) {
            throw new GatewayException(200, GatewayException.BAD_ANSWER, k + ": hex expected");
        }
    }

    private static byte[] b64(Map<String, Object> r, String k) throws GatewayException {
        try {
            return Base64.getDecoder().decode(str(r, k));
        } catch (IllegalArgumentException e) {
            throw new GatewayException(200, GatewayException.BAD_ANSWER, k + ": base64 expected");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Map<String, Object> r, String k) {
        List<String> out = new ArrayList<>();
        Object v = r.get(k);
        if (v instanceof List) for (Object o : (List<Object>) v) if (o instanceof String) out.add((String) o);
        return Collections.unmodifiableList(out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> r, String k) {
        Object v = r.get(k);
        return v instanceof Map ? (Map<String, Object>) v : Collections.emptyMap();
    }
}
