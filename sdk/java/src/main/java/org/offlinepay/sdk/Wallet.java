package org.offlinepay.sdk;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * The wallet's side of the offline payment protocol, version 1 (docs/protocol.md; usage in docs/wallet-sdk-java.md;
 * the same behaviour as sdk/wallet.ts):
 *
 * <pre>
 *   Wallet wallet = new Wallet(keyPair, allowanceBytes, new FileWalletStore(file));
 *   Wallet.PaymentOut p = wallet.pay(scannedRequestText);   // show p.qr, or send p.bytes over the BLE session
 *   Wallet.ReceiptCheck r = wallet.checkReceipt(receiptText, p.bytes, terminalPub);
 * </pre>
 *
 * Counters: every payment takes the allowance's next counter, and the new state is saved through the store BEFORE
 * the payment is signed, so a crash or a second tap can never make two payments with one counter. The amount counts
 * against the cap when the payment is made (a receipt may never arrive). Calls block (ECDSA, the store's fsync):
 * never call them on Android's main thread. All methods are thread-safe (one lock per wallet).
 */
public final class Wallet {
    private final KeyPair keys;
    private final byte[] publicRaw;
    private final WalletStore store;
    private Messages.Allowance allowance;

    /**
     * @param keyPair the wallet's P-256 key: on Android, from the Keystore (the private key never leaves it)
     * @param allowance the issuer-signed Allowance (140 bytes) from registration or the last sync
     * @param store where counters and spending are kept (never WalletStore.Memory for a real wallet)
     */
    public Wallet(KeyPair keyPair, byte[] allowance, WalletStore store) throws WalletException {
        this.keys = keyPair;
        this.store = store;
        try {
            this.publicRaw = P256.raw(keyPair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new WalletException(WalletException.KEY, "the wallet key is not a P-256 key", e);
        }
        setAllowance(allowance);
    }

    /** X||Y (64 bytes): what the issuer puts in the allowance. */
    public byte[] publicKeyRaw() {
        return publicRaw.clone();
    }

    /** The wallet ID: SHA-256(public key)[0..8], hex (docs/protocol.md section 1). */
    public String walletId() {
        return walletIdOf(publicRaw);
    }

    public static String walletIdOf(byte[] publicKeyRaw) {
        return Bytes.toHex(Bytes.slice(Bytes.sha256(publicKeyRaw), 0, 8));
    }

    /** The wallet's key pair (the gateway client signs its requests with it). */
    KeyPair keyPair() {
        return keys;
    }

    public synchronized Messages.Allowance allowance() {
        return allowance;
    }

    /**
     * Takes a new allowance (after a sync). Spending restarts only for a different allowance; the counter never
     * goes below what this wallet already used, even if the new allowance starts lower.
     */
    public synchronized void setAllowance(byte[] bytes) throws WalletException {
        Messages.Allowance a = Messages.Allowance.decode(bytes);
        if (a == null) throw new WalletException(WalletException.ALLOWANCE, "not a version-1 Allowance message of 140 bytes");
        WalletState prev = load();
        String id = Bytes.toHex(Bytes.slice(a.issuerSig, 0, 16));
        if (prev == null || !prev.allowanceId.equals(id)) {
            int next = Math.max(a.startCounter, prev != null ? prev.nextCounter : 0);
            // bundles still to carry are the gateway's, not the allowance's: they survive a new allowance
            save(new WalletState(id, next, 0, new ArrayList<>(), prev != null ? prev.relayed : Collections.<String>emptyList()));
        }
        allowance = a;
    }

    /** The persisted state (immutable). */
    public synchronized WalletState state() throws WalletException {
        WalletState s = load();
        if (s == null) throw new WalletException(WalletException.STORE, "the store lost the wallet's state");
        return s;
    }

    /** What may still be spent offline under the allowance, minor units. */
    public synchronized long remaining() throws WalletException {
        return Math.max(0, allowance.capMinor - state().spentMinor);
    }

    /** A payment made: its QR text, its bytes (206), its BLE frames, the request paid and its counter. */
    public static final class PaymentOut {
        /**
         * The QR text to show: for an encrypted request ("R2...") the sealed "P2..." form (467 characters, QR version
         * 13 at ECC level M), which only the terminal that showed the request can read; otherwise "P1" + Base45 (311
         * characters, version 10-M).
         */
        public final String qr;
        /** True when qr is the encrypted "P2..." form. */
        public final boolean encrypted;
        public final byte[] bytes;
        public final List<byte[]> frames;
        public final Messages.Request request;
        public final int counter;

        PaymentOut(String qr, boolean encrypted, byte[] bytes, Messages.Request request, int counter) {
            this.qr = qr;
            this.encrypted = encrypted;
            this.bytes = bytes;
            this.frames = Frames.split(bytes);
            this.request = request;
            this.counter = counter;
        }
    }

    /**
     * Pays a request's QR text: "R2..." (encrypted QR: the answer is a sealed "P2..." text) or "R1..." (answered
     * with "P1...").
     */
    public PaymentOut pay(String requestText) throws WalletException {
        QrSession.RequestQr r2 = QrSession.parseRequest(requestText);
        if (r2 != null) {
            if (QrSession.decompress(r2.sessionKey) == null) throw new WalletException(WalletException.R01, "Not a payment request, or the code is damaged (its session key is not a P-256 point)");
            return pay(r2.request, r2.sessionKey);
        }
        if (requestText.startsWith("R" + QrSession.QR_VERSION)) {
            // a version this wallet speaks: damaged, not newer
            throw new WalletException(WalletException.R01, "Not a payment request, or the code is damaged");
        }
        QrText.Result r = QrText.decode(requestText);
        if (!r.ok()) {
            throw "version".equals(r.err)
                    ? new WalletException(WalletException.R02, "The request is from a newer protocol version; update the app")
                    : new WalletException(WalletException.R01, "Not a payment request, or the code is damaged");
        }
        return pay(r.msg, null);
    }

    /**
     * Pays a request (the binary Request, 88 bytes, as it arrives over Bluetooth, whose session is encrypted already:
     * the QR text is "P1..."). Throws WalletException R01, R05, R06, R07, KEY, COUNTER, STORE (see WalletException).
     */
    public PaymentOut pay(byte[] requestBytes) throws WalletException {
        return pay(requestBytes, null);
    }

    private synchronized PaymentOut pay(byte[] requestBytes, byte[] sessionKey) throws WalletException {
        Messages.Request q = Messages.Request.decode(requestBytes);
        if (q == null) throw new WalletException(WalletException.R01, "Not a payment request, or the code is damaged");
        Messages.Allowance a = allowance;
        if (!Bytes.equalConstantTime(publicRaw, a.walletPub)) throw new WalletException(WalletException.KEY, "The allowance was issued for another wallet key");
        long day = q.time / 86400;
        if (a.expiryDay < day) throw new WalletException(WalletException.R05, "Wallet's offline allowance has expired: it ended on day " + a.expiryDay + ", the terminal's date is day " + day + "; sync to renew it");
        if (q.currency != a.currency) throw new WalletException(WalletException.R06, "Payment currency differs from the request: the terminal asks in currency " + q.currency + ", this allowance is in " + a.currency);
        if (q.amountMinor <= 0) throw new WalletException(WalletException.R01, "The request is for no amount");
        WalletState s = state();
        long left = Math.max(0, a.capMinor - s.spentMinor);
        if (q.amountMinor > left) throw new WalletException(WalletException.R07, "Amount exceeds the wallet's offline allowance: " + q.amountMinor + " asked, " + left + " left offline");
        int counter = s.nextCounter;
        if (counter > 0xffff) throw new WalletException(WalletException.COUNTER, "This allowance's payment counters are used up; sync to get a new allowance");

        // Reserve the counter and the amount, persisted, before anything is signed.
        PaymentRecordBuilder rec = new PaymentRecordBuilder(counter, q);
        List<WalletState.PaymentRecord> list = new ArrayList<>(s.payments);
        list.add(rec.build("", ""));
        save(new WalletState(s.allowanceId, counter + 1, s.spentMinor + q.amountMinor, list, s.relayed));

        byte[] unsigned = Messages.Payment.encode(a.bytes, counter, new byte[Messages.SIG]);
        byte[] sig;
        try {
            sig = P256.sign(keys.getPrivate(), Bytes.concat(Messages.signedPart(unsigned), q.bytes));
        } catch (GeneralSecurityException e) {
            throw new WalletException(WalletException.CRYPTO, "the wallet key could not sign: " + e.getMessage(), e);
        }
        byte[] payment = Messages.Payment.encode(a.bytes, counter, sig);
        String hash = Bytes.toHex(Bytes.slice(Bytes.sha256(payment), 0, 8));
        WalletState now = state();
        List<WalletState.PaymentRecord> done = new ArrayList<>();
        for (WalletState.PaymentRecord p : now.payments) done.add(p.counter == counter ? rec.build(hash, Bytes.toHex(payment)) : p);
        save(new WalletState(now.allowanceId, now.nextCounter, now.spentMinor, done, now.relayed));
        String qr;
        try {
            qr = sessionKey != null ? QrSession.sealPayment(q.bytes, sessionKey, payment) : QrText.encode(payment);
        } catch (GeneralSecurityException e) {
            throw new WalletException(WalletException.CRYPTO, "the payment could not be sealed for the terminal: " + e.getMessage(), e);
        }
        return new PaymentOut(qr, sessionKey != null, payment, q, counter);
    }

    private static final class PaymentRecordBuilder {
        final int counter;
        final Messages.Request q;

        PaymentRecordBuilder(int counter, Messages.Request q) {
            this.counter = counter;
            this.q = q;
        }

        WalletState.PaymentRecord build(String hash, String payment) {
            return new WalletState.PaymentRecord(counter, q.terminalId, q.amountMinor, q.currency, q.time, Bytes.toHex(q.nonce), hash, Bytes.toHex(q.bytes), payment, null);
        }
    }

    /** A checked receipt. */
    public static final class ReceiptCheck {
        public final Messages.Receipt receipt;
        /** The customer's reference, XXXX-XXXX-XXXX. */
        public final String utr;
        /** txId as hex (terminalId || sequence). */
        public final String txId;
        /** True when the terminal's signature was checked against the given key (false: no key given). */
        public final boolean signatureVerified;

        ReceiptCheck(Messages.Receipt r, boolean verified) {
            receipt = r;
            txId = Bytes.toHex(r.txId);
            utr = Utr.of(r.txId);
            signatureVerified = verified;
        }
    }

    /** checkReceipt for a receipt's QR text ("X1..."). */
    public ReceiptCheck checkReceipt(String receiptText, byte[] payment, byte[] terminalPub) throws WalletException {
        QrText.Result r = QrText.decode(receiptText);
        if (!r.ok()) throw new WalletException(WalletException.RECEIPT, "Not a receipt, or the code is damaged");
        return checkReceipt(r.msg, payment, terminalPub);
    }

    /**
     * Checks the terminal's receipt for a payment this wallet made: its paymentHash must be SHA-256(payment)[0..8]
     * and, when the terminal's key is given (X||Y, from its checked TerminalCert), its signature the terminal's.
     * Records it with the payment. Throws WalletException RECEIPT, MISMATCH, SIGNATURE.
     */
    public synchronized ReceiptCheck checkReceipt(byte[] receipt, byte[] payment, byte[] terminalPub) throws WalletException {
        Messages.Receipt r = Messages.Receipt.decode(receipt);
        if (r == null) throw new WalletException(WalletException.RECEIPT, "Not a receipt, or the code is damaged");
        if (payment == null || payment.length < 2 || (payment[1] & 255) != Messages.PAYMENT) throw new WalletException(WalletException.RECEIPT, "the second argument must be the Payment bytes pay() returned");
        byte[] hash = Bytes.slice(Bytes.sha256(payment), 0, 8);
        if (!Bytes.equalConstantTime(hash, r.paymentHash)) throw new WalletException(WalletException.MISMATCH, "This receipt is for a different payment");
        boolean verified = false;
        if (terminalPub != null) {
            verified = P256.verify(terminalPub, r.terminalSig, Messages.signedPart(receipt));
            if (!verified) throw new WalletException(WalletException.SIGNATURE, "The receipt is not signed by this terminal");
        }
        ReceiptCheck out = new ReceiptCheck(r, verified);
        String hex = Bytes.toHex(hash);
        WalletState s = state();
        List<WalletState.PaymentRecord> list = new ArrayList<>();
        for (WalletState.PaymentRecord p : s.payments) {
            list.add(p.paymentHash.equals(hex) ? p.withReceipt(new WalletState.ReceiptInfo(out.txId, out.utr, r.status, r.time, verified, Bytes.toHex(receipt))) : p);
        }
        save(new WalletState(s.allowanceId, s.nextCounter, s.spentMinor, list, s.relayed));
        return out;
    }

    /** Most relay bundles a wallet keeps for the gateway at once (each at most 1,404 bytes). */
    public static final int MAX_RELAYED = 16;

    /**
     * Keeps a relay bundle a terminal sent over Bluetooth (BleSession.pay does it) for the gateway, bytes unchanged:
     * the phone can neither read nor change it (docs/protocol.md, "Relayed records"); GatewayClient.sync uploads it.
     * The same bundle twice is kept once; past MAX_RELAYED the oldest is let go (its terminal still holds the
     * records and uploads them itself). WalletException RELAY for bytes that are no relay bundle.
     */
    public synchronized void keepRelayed(byte[] bundle) throws WalletException {
        if (bundle == null || bundle.length < 60 || bundle[0] != Messages.VERSION || (bundle[1] & 255) != Messages.RELAY) {
            throw new WalletException(WalletException.RELAY, "not a relay bundle (01 50, terminal ID, sealed records)");
        }
        WalletState s = state();
        String b64 = Base64.getEncoder().encodeToString(bundle);
        List<String> list = new ArrayList<>();
        for (String x : s.relayed) if (!x.equals(b64)) list.add(x);
        list.add(b64);
        while (list.size() > MAX_RELAYED) list.remove(0);
        save(s.withRelayed(list));
    }

    /** The relay bundles waiting for the gateway, oldest first (copies). */
    public synchronized List<byte[]> relayedBundles() throws WalletException {
        List<byte[]> out = new ArrayList<>();
        for (String b : state().relayed) out.add(Base64.getDecoder().decode(b));
        return out;
    }

    /** Lets go of a relay bundle (the gateway took it, or will never take it). */
    public synchronized void dropRelayed(byte[] bundle) throws WalletException {
        WalletState s = state();
        String b64 = Base64.getEncoder().encodeToString(bundle);
        if (!s.relayed.contains(b64)) return;
        List<String> list = new ArrayList<>(s.relayed);
        list.remove(b64);
        save(s.withRelayed(list));
    }

    private WalletState load() throws WalletException {
        try {
            return store.load();
        } catch (IOException e) {
            throw new WalletException(WalletException.STORE, "the wallet's state could not be read: " + e.getMessage(), e);
        }
    }

    private void save(WalletState s) throws WalletException {
        try {
            store.save(s);
        } catch (IOException e) {
            throw new WalletException(WalletException.STORE, "the wallet's state could not be saved (nothing was signed): " + e.getMessage(), e);
        }
    }
}
