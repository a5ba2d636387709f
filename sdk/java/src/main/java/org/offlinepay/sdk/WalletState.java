package org.offlinepay.sdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a wallet persists: which allowance it spends, the next counter, what it spent and each payment (with the
 * request, the payment and the terminal's receipt: the evidence a sync reports). Immutable; toJson()/fromJson()
 * give the text to keep (the same fields as sdk/wallet.ts's WalletState, plus the evidence bytes).
 */
public final class WalletState {
    /** Hex of the first 16 bytes of the allowance's issuer signature. */
    public final String allowanceId;
    public final int nextCounter;
    public final long spentMinor;
    public final List<PaymentRecord> payments;
    /**
     * Relay bundles terminals handed this phone for the gateway (base64, bytes unchanged: docs/protocol.md,
     * "Relayed records"), oldest first; GatewayClient.sync uploads them.
     */
    public final List<String> relayed;

    public WalletState(String allowanceId, int nextCounter, long spentMinor, List<PaymentRecord> payments) {
        this(allowanceId, nextCounter, spentMinor, payments, Collections.<String>emptyList());
    }

    public WalletState(String allowanceId, int nextCounter, long spentMinor, List<PaymentRecord> payments, List<String> relayed) {
        this.allowanceId = allowanceId;
        this.nextCounter = nextCounter;
        this.spentMinor = spentMinor;
        this.payments = Collections.unmodifiableList(new ArrayList<>(payments));
        this.relayed = Collections.unmodifiableList(new ArrayList<>(relayed));
    }

    /** This state with another list of relay bundles. */
    WalletState withRelayed(List<String> bundles) {
        return new WalletState(allowanceId, nextCounter, spentMinor, payments, bundles);
    }

    /** One payment made under the allowance. */
    public static final class PaymentRecord {
        public final int counter;
        public final long terminalId, amountMinor;
        public final int currency;
        /** The request's time (terminal's clock), Unix seconds. */
        public final long time;
        /** Hex: the request's nonce; SHA-256(payment)[0..8]; the Request and Payment messages. */
        public final String nonce, paymentHash, request, payment;
        /** Set once the terminal's receipt was checked (null before). */
        public final ReceiptInfo receipt;

        public PaymentRecord(int counter, long terminalId, long amountMinor, int currency, long time, String nonce, String paymentHash, String request, String payment, ReceiptInfo receipt) {
            this.counter = counter;
            this.terminalId = terminalId;
            this.amountMinor = amountMinor;
            this.currency = currency;
            this.time = time;
            this.nonce = nonce;
            this.paymentHash = paymentHash;
            this.request = request;
            this.payment = payment;
            this.receipt = receipt;
        }

        PaymentRecord withReceipt(ReceiptInfo r) {
            return new PaymentRecord(counter, terminalId, amountMinor, currency, time, nonce, paymentHash, request, payment, r);
        }
    }

    /** The checked receipt of a payment. */
    public static final class ReceiptInfo {
        /** Hex txId (terminalId || sequence); the customer's reference; status (0 pending, 1 settled); Unix seconds. */
        public final String txId, utr;
        public final int status;
        public final long time;
        public final boolean signatureVerified;
        /** The Receipt message, hex. */
        public final String bytes;

        public ReceiptInfo(String txId, String utr, int status, long time, boolean signatureVerified, String bytes) {
            this.txId = txId;
            this.utr = utr;
            this.status = status;
            this.time = time;
            this.signatureVerified = signatureVerified;
            this.bytes = bytes;
        }
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("allowanceId", allowanceId);
        m.put("nextCounter", nextCounter);
        m.put("spentMinor", spentMinor);
        List<Object> list = new ArrayList<>();
        for (PaymentRecord p : payments) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("counter", p.counter);
            r.put("terminalId", p.terminalId);
            r.put("amountMinor", p.amountMinor);
            r.put("currency", p.currency);
            r.put("time", p.time);
            r.put("nonce", p.nonce);
            r.put("paymentHash", p.paymentHash);
            r.put("request", p.request);
            r.put("payment", p.payment);
            if (p.receipt != null) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("txId", p.receipt.txId);
                x.put("utr", p.receipt.utr);
                x.put("status", p.receipt.status);
                x.put("time", p.receipt.time);
                x.put("signatureVerified", p.receipt.signatureVerified);
                x.put("bytes", p.receipt.bytes);
                r.put("receipt", x);
            }
            list.add(r);
        }
        m.put("payments", list);
        if (!relayed.isEmpty()) m.put("relayed", new ArrayList<Object>(relayed));
        return Json.write(m);
    }

    /** The state saved by toJson(); IllegalArgumentException when the text is not one. */
    @SuppressWarnings("unchecked")
    public static WalletState fromJson(String text) {
        try {
            Map<String, Object> m = (Map<String, Object>) Json.parse(text);
            if (((Number) m.get("v")).intValue() != 1) throw new IllegalArgumentException("wallet state of another version");
            List<PaymentRecord> ps = new ArrayList<>();
            for (Object o : (List<Object>) m.get("payments")) {
                Map<String, Object> r = (Map<String, Object>) o;
                ReceiptInfo ri = null;
                Map<String, Object> x = (Map<String, Object>) r.get("receipt");
                if (x != null) ri = new ReceiptInfo((String) x.get("txId"), (String) x.get("utr"), num(x, "status").intValue(), num(x, "time").longValue(), Boolean.TRUE.equals(x.get("signatureVerified")), (String) x.get("bytes"));
                ps.add(new PaymentRecord(num(r, "counter").intValue(), num(r, "terminalId").longValue(), num(r, "amountMinor").longValue(), num(r, "currency").intValue(), num(r, "time").longValue(),
                        (String) r.get("nonce"), (String) r.get("paymentHash"), (String) r.get("request"), (String) r.get("payment"), ri));
            }
            List<String> relayed = new ArrayList<>();
            if (m.get("relayed") != null) for (Object o : (List<Object>) m.get("relayed")) relayed.add((String) o);
            return new WalletState((String) m.get("allowanceId"), num(m, "nextCounter").intValue(), num(m, "spentMinor").longValue(), ps, relayed);
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("not a saved wallet state", e);
        }
    }

    private static Number num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Number)) throw new IllegalArgumentException("wallet state: " + k + " is not a number");
        return (Number) v;
    }
}
