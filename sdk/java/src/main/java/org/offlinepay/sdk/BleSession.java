package org.offlinepay.sdk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The wallet's side of the encrypted Bluetooth session (docs/protocol.md section 3; the same checks as sdk/ble.ts),
 * over a BleTransport the app binds to Android's BLE central. Calls block: run them on a worker thread.
 *
 * <pre>
 *   BleSession s = new BleSession(transport, new BleSession.Options(issuerKeys, System::currentTimeMillis));
 *   BleSession.Info info = s.open();       // HELLO, ACCEPT: certificate (issuer, expiry), session key checked
 *   BleSession.Paid out = s.pay(wallet, prompt -&gt; askCustomer(prompt));
 * </pre>
 *
 * Fails closed: no session without issuer keys (NO_ISSUER_KEYS); a certificate that is not the issuer's
 * (CERT_UNTRUSTED) or has expired by the app's clock (CERT_EXPIRED) is refused; a request for another terminal than
 * the certificate's (TERMINAL_MISMATCH) or not signed by its key (REQUEST_SIGNATURE) is never paid.
 */
public final class BleSession {
    public static final int HELLO = 0x01, ACCEPT = 0x02, DATA = 0x03, ERROR = 0x7F;
    public static final int SESSION_VERSION = 1;
    public static final int ACCEPT_LEN = 2 + 64 + 64 + 141;
    public static final int KEYID_W2T = 2, KEYID_T2W = 3;
    static final byte[] SESSION_LABEL = "ble-session v1".getBytes(StandardCharsets.US_ASCII);

    /** The session's settings. */
    public static final class Options {
        final Map<Integer, byte[]> issuerKeys = new HashMap<>();
        final LongSupplier wallClockMs;
        LongSupplier monotonicMs = () -> System.nanoTime() / 1000000L;
        long timeoutMs = 15000;

        /**
         * @param issuerKeys the issuer's public keys (X||Y) by key ID, from the wallet's sync: required
         * @param wallClockMs the app's clock, Unix ms, for the certificate's expiry (the SDK has no trusted clock)
         */
        public Options(Map<Integer, byte[]> issuerKeys, LongSupplier wallClockMs) throws BleException {
            if (issuerKeys != null) {
                for (Map.Entry<Integer, byte[]> e : issuerKeys.entrySet()) {
                    int id = e.getKey() == null ? -1 : e.getKey();
                    if (id < 0 || id > 255) throw new BleException(BleException.NO_ISSUER_KEYS, "issuerKeys: key ID " + e.getKey() + " is not a byte");
                    if (e.getValue() == null || e.getValue().length != 64) throw new BleException(BleException.NO_ISSUER_KEYS, "issuerKeys: key " + id + " is not a 64-byte X||Y public key");
                    this.issuerKeys.put(id, e.getValue().clone());
                }
            }
            if (this.issuerKeys.isEmpty()) throw new BleException(BleException.NO_ISSUER_KEYS, "the session needs the issuer's public keys to check the terminal's certificate");
            if (wallClockMs == null) throw new BleException(BleException.NO_CLOCK, "the session needs the app's clock (Unix ms) to check the certificate's expiry");
            this.wallClockMs = wallClockMs;
        }

        /** How long open() and next() wait, ms (default 15000; 0 = forever). */
        public Options timeoutMs(long ms) {
            timeoutMs = ms;
            return this;
        }

        /** Monotonic ms for the frame reassembler's timeout (default System.nanoTime). */
        public Options monotonicMs(LongSupplier now) {
            monotonicMs = now;
            return this;
        }
    }

    /** The terminal of an open session, from its checked certificate. */
    public static final class Info {
        public final Messages.TerminalCert cert;
        public final long terminalId, merchantId;
        public final int certExpiryDay;

        Info(Messages.TerminalCert c) {
            cert = c;
            terminalId = c.terminalId;
            merchantId = c.merchantId;
            certExpiryDay = c.expiryDay;
        }

        /** The terminal's identity key X||Y: requests and receipts must be signed by it. */
        public byte[] terminalPub() {
            return cert.terminalPub.clone();
        }
    }

    private final BleTransport transport;
    private final Options o;
    private final Frames.Reassembler rx = new Frames.Reassembler(Frames.MAX_TO_WALLET);
    /** Relay bundles the terminal sent in this session, not yet taken (relayed()). */
    private final List<byte[]> bundles = new ArrayList<>();
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private Seal.Keys w2t, t2w;
    private long sendSeq, recvSeq;
    private Info peer;

    public BleSession(BleTransport transport, Options o) {
        this.transport = transport;
        this.o = o;
        transport.setListener(new BleTransport.Listener() {
            @Override
            public void onNotify(int uuid, byte[] value) {
                if (uuid != BleTransport.CHAR_TO_WALLET) return;
                byte[] m;
                synchronized (rx) {
                    try {
                        m = rx.push(value, o.monotonicMs.getAsLong());
                    } catch (Frames.Reassembler.FrameError e) {
                        inbox.add(new BleException("B01", "Bluetooth frame from the terminal rejected: " + e.reason));
                        return;
                    }
                }
                if (m == null) return;
                if ((m[0] & 255) == ERROR) {
                    StringBuilder code = new StringBuilder();
                    for (int i = 1; i < m.length && i < 8; i++) code.append((char) (m[i] & 255));
                    String c = code.length() > 0 ? code.toString() : "B00";
                    inbox.add(new BleException(c, "The terminal rejected the message (" + c + ")"));
                } else inbox.add(m);
            }

            @Override
            public void onDisconnect(String why) {
                inbox.add(new BleException(BleException.TRANSPORT, "The Bluetooth link dropped: " + why));
            }
        });
    }

    /**
     * HELLO with a fresh ephemeral key, then the terminal's ACCEPT: its certificate (issuer's signature, expiry by the
     * app's clock), the session key's signature by the certificate's key, then the session keys. Throws BleException
     * CERT_MALFORMED, CERT_UNTRUSTED, CERT_EXPIRED, SIGNATURE, NO_CLOCK, B02, TIMEOUT, TRANSPORT.
     */
    public synchronized Info open() throws BleException {
        peer = null;
        w2t = null;
        t2w = null;
        // nothing of an earlier session (a late notification, a stale error) may pass for this one's answer
        inbox.clear();
        synchronized (rx) {
            rx.reset();
        }
        KeyPair eph;
        byte[] ephXY;
        try {
            eph = P256.generate();
            ephXY = P256.raw(eph.getPublic());
        } catch (GeneralSecurityException e) {
            throw new BleException(BleException.CRYPTO, "no ephemeral P-256 key: " + e.getMessage(), e);
        }
        write(Bytes.concat(new byte[] {HELLO, SESSION_VERSION}, ephXY));
        byte[] m = take();
        if ((m[0] & 255) != ACCEPT || m.length != ACCEPT_LEN || (m[1] & 255) != SESSION_VERSION) throw new BleException("B02", "The terminal's answer is not a session accept");
        byte[] sessionPub = Bytes.slice(m, 2, 66);
        byte[] sig = Bytes.slice(m, 66, 130);
        byte[] certBytes = Bytes.slice(m, 130, m.length);
        Messages.TerminalCert cert = Messages.TerminalCert.decode(certBytes);
        if (cert == null) throw new BleException(BleException.CERT_MALFORMED, "The terminal's certificate is malformed");
        byte[] ik = o.issuerKeys.get(cert.issuerKeyId);
        if (ik == null) throw new BleException(BleException.CERT_UNTRUSTED, "The terminal's certificate names issuer key " + cert.issuerKeyId + ", which this wallet does not trust");
        if (!P256.verify(ik, cert.issuerSig, Messages.signedPart(certBytes))) throw new BleException(BleException.CERT_UNTRUSTED, "The terminal's certificate is not signed by the issuer (key " + cert.issuerKeyId + ")");
        checkExpiry(cert, o.wallClockMs);
        byte[] transcript = Bytes.concat(SESSION_LABEL, ephXY, sessionPub);
        if (!P256.verify(cert.terminalPub, sig, transcript)) throw new BleException(BleException.SIGNATURE, "The session key is not signed by the terminal");
        try {
            byte[] z = P256.ecdh(eph.getPrivate(), sessionPub);
            byte[] th = Bytes.sha256(transcript);
            w2t = new Seal.Keys(KEYID_W2T, derive(z, "w2t enc", th), derive(z, "w2t mac", th));
            t2w = new Seal.Keys(KEYID_T2W, derive(z, "t2w enc", th), derive(z, "t2w mac", th));
            java.util.Arrays.fill(z, (byte) 0);
        } catch (GeneralSecurityException e) {
            throw new BleException(BleException.CRYPTO, "session keys: " + e.getMessage(), e);
        }
        sendSeq = 0;
        recvSeq = 0;
        bundles.clear();
        peer = new Info(cert);
        return peer;
    }

    /** Throws CERT_EXPIRED when the certificate's expiry day is before the app's date (UTC), NO_CLOCK without a time. */
    static void checkExpiry(Messages.TerminalCert cert, LongSupplier clock) throws BleException {
        long nowMs = clock.getAsLong();
        if (nowMs <= 0) throw new BleException(BleException.NO_CLOCK, "wallClockMs did not return a time (Unix ms): " + nowMs);
        long today = nowMs / 86400000L;
        if (cert.expiryDay < today) {
            throw new BleException(BleException.CERT_EXPIRED, "The terminal's certificate expired on " + dayText(cert.expiryDay) + " (today is " + dayText(today) + " by this phone's clock)");
        }
    }

    private static byte[] derive(byte[] z, String label, byte[] th) throws GeneralSecurityException {
        return Bytes.slice(Seal.hmac(z, label.getBytes(StandardCharsets.US_ASCII), th), 0, 16);
    }

    /** The terminal of the open session; STATE before open() succeeded. */
    public synchronized Info info() throws BleException {
        if (peer == null) throw new BleException(BleException.STATE, "open() the session first");
        return peer;
    }

    /** Seals one protocol message (Payment, PaidConfirmation) to the terminal. */
    public synchronized void send(byte[] msg) throws BleException {
        if (w2t == null) throw new BleException(BleException.STATE, "open() the session first");
        byte[] env;
        try {
            env = Seal.seal(w2t, ++sendSeq, msg);
        } catch (GeneralSecurityException e) {
            throw new BleException(BleException.CRYPTO, "seal: " + e.getMessage(), e);
        }
        write(Bytes.concat(new byte[] {DATA}, env));
    }

    /**
     * The next protocol message from the terminal, decrypted and authenticated. A relay bundle the terminal sends
     * along is set aside for relayed() and never returned here. Throws the terminal's ERROR code (B01..B06), B03
     * (fails authentication), B04 (replayed), B05 (not a DATA message), TIMEOUT, TRANSPORT.
     */
    public synchronized byte[] next() throws BleException {
        for (;;) {
            byte[] m = nextAny();
            if (m.length > 1 && m[0] == Messages.VERSION && (m[1] & 255) == Messages.RELAY) bundles.add(m);
            else return m;
        }
    }

    /**
     * The relay bundles the terminal has sent so far in this session (docs/protocol.md, "Relayed records"), taken
     * out: keep them in the wallet (Wallet.keepRelayed; pay() does) for GatewayClient.sync to upload.
     */
    public synchronized List<byte[]> relayed() {
        List<byte[]> out = new ArrayList<>(bundles);
        bundles.clear();
        return out;
    }

    private byte[] nextAny() throws BleException {
        if (t2w == null) throw new BleException(BleException.STATE, "open() the session first");
        byte[] m = take();
        if ((m[0] & 255) != DATA) throw new BleException("B05", "Unexpected message from the terminal (kind " + (m[0] & 255) + ")");
        Seal.Opened r;
        try {
            r = Seal.unseal(t2w, Bytes.slice(m, 1, m.length));
        } catch (Seal.Broken e) {
            throw new BleException("B03", "A message from the terminal failed authentication (" + e.reason + ")");
        } catch (GeneralSecurityException e) {
            throw new BleException(BleException.CRYPTO, "unseal: " + e.getMessage(), e);
        }
        if (r.seq <= recvSeq) throw new BleException("B04", "A message from the terminal was replayed");
        recvSeq = r.seq;
        return r.data;
    }

    /** What the customer confirms: who is paid (the certificate's merchant) and how much (the request). */
    public static final class Prompt {
        public final long merchantId, terminalId, amountMinor;
        public final int currency;
        public final long time;

        Prompt(Info i, Messages.Request q) {
            merchantId = i.merchantId;
            terminalId = i.terminalId;
            amountMinor = q.amountMinor;
            currency = q.currency;
            time = q.time;
        }
    }

    /** Asks the customer; called on the session's thread, may block until they answer. */
    public interface Confirm {
        boolean confirm(Prompt p);
    }

    /** A payment made over the session, with the terminal's checked receipt. */
    public static final class Paid {
        public final Wallet.PaymentOut payment;
        public final Wallet.ReceiptCheck receipt;
        public final long merchantId, terminalId;
        /** Relay bundles the terminal handed over in this session, now kept in the wallet (usually 0 or 1). */
        public final int relayed;

        Paid(Wallet.PaymentOut p, Wallet.ReceiptCheck r, Info i, int relayed) {
            payment = p;
            receipt = r;
            merchantId = i.merchantId;
            terminalId = i.terminalId;
            this.relayed = relayed;
        }
    }

    /**
     * A whole payment over the open session: the terminal's Request is checked against the certificate (its terminal
     * ID: TERMINAL_MISMATCH; its signature: REQUEST_SIGNATURE), the customer confirms (null: pay at once; false:
     * DECLINED, nothing spent), the wallet pays, the Payment goes back, and the Receipt is checked against the same
     * key. WalletException for what the wallet refuses (R05, R07, ...).
     */
    public Paid pay(Wallet wallet, Confirm confirm) throws BleException, WalletException {
        Info p = info();
        byte[] req = next();
        if (req.length < 2 || (req[1] & 255) != Messages.REQUEST) throw new BleException("B05", "The terminal sent something other than a payment request");
        Messages.Request q = Messages.Request.decode(req);
        if (q == null) throw new BleException("B05", "The terminal's payment request is malformed");
        if (q.terminalId != p.terminalId) {
            throw new BleException(BleException.TERMINAL_MISMATCH, "The request is for terminal " + q.terminalId + ", but this terminal's certificate is for terminal " + p.terminalId + ": not paid");
        }
        if (!P256.verify(p.cert.terminalPub, q.terminalSig, Messages.signedPart(req))) {
            throw new BleException(BleException.REQUEST_SIGNATURE, "The request is not signed by the terminal's certified key: not paid");
        }
        if (confirm != null && !confirm.confirm(new Prompt(p, q))) throw new BleException(BleException.DECLINED, "The customer declined the payment");
        Wallet.PaymentOut out = wallet.pay(req);
        send(out.bytes);
        byte[] rc = next();
        Wallet.ReceiptCheck checked = wallet.checkReceipt(rc, out.bytes, p.cert.terminalPub);
        // the terminal sends its relay bundle, if any, before the receipt: it has come by now
        int kept = 0;
        for (byte[] b : relayed()) {
            try {
                wallet.keepRelayed(b);
                kept++;
            } catch (WalletException e) {
                // a malformed bundle is not kept; the payment stands (the terminal still holds its records)
            }
        }
        return new Paid(out, checked, p, kept);
    }

    /**
     * Hands an invoice's paid confirmation (from GatewayClient.payInvoice) to an offline terminal over the open
     * session (flow 2): the terminal's Invoice arrives and must be the certified terminal's (its ID, its signature)
     * and the one the confirmation pays (number, amount, currency); the confirmation goes back; the terminal's
     * Receipt, signed by the same key, is returned. TERMINAL_MISMATCH, REQUEST_SIGNATURE, B05 (not an invoice, or
     * not the one paid: nothing is sent), SIGNATURE (a receipt not the terminal's).
     */
    public Messages.Receipt relayPaidConfirmation(byte[] paidConfirmation) throws BleException {
        Info p = info();
        Messages.PaidConfirmation c = Messages.PaidConfirmation.decode(paidConfirmation);
        if (c == null) throw new BleException(BleException.STATE, "not a PaidConfirmation message");
        byte[] inv = next();
        Messages.Invoice i = Messages.Invoice.decode(inv);
        if (i == null) throw new BleException("B05", "The terminal sent something other than an invoice");
        if (i.terminalId != p.terminalId) throw new BleException(BleException.TERMINAL_MISMATCH, "The invoice is for terminal " + i.terminalId + ", this terminal's certificate for " + p.terminalId);
        if (!P256.verify(p.cert.terminalPub, i.terminalSig, Messages.signedPart(inv))) throw new BleException(BleException.REQUEST_SIGNATURE, "The invoice is not signed by the terminal's certified key");
        if (c.terminalId != i.terminalId || c.invoiceNo != i.invoiceNo || c.amountMinor != i.amountMinor || c.currency != i.currency) {
            throw new BleException("B05", "The terminal shows invoice " + i.invoiceNo + ", not the one this confirmation pays (" + c.invoiceNo + ")");
        }
        send(paidConfirmation);
        byte[] rc = next();
        Messages.Receipt r = Messages.Receipt.decode(rc);
        if (r == null) throw new BleException("B05", "The terminal's answer is not a receipt");
        if (!P256.verify(p.cert.terminalPub, r.terminalSig, Messages.signedPart(rc))) throw new BleException(BleException.SIGNATURE, "The receipt is not signed by the terminal");
        return r;
    }

    private void write(byte[] msg) throws BleException {
        try {
            for (byte[] f : Frames.split(msg)) transport.write(BleTransport.CHAR_FROM_WALLET, f);
        } catch (IOException e) {
            throw new BleException(BleException.TRANSPORT, "Bluetooth write failed: " + e.getMessage(), e);
        }
    }

    private byte[] take() throws BleException {
        Object m;
        try {
            m = o.timeoutMs > 0 ? inbox.poll(o.timeoutMs, TimeUnit.MILLISECONDS) : inbox.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BleException(BleException.TIMEOUT, "interrupted while waiting for the terminal");
        }
        if (m == null) throw new BleException(BleException.TIMEOUT, "The terminal did not answer over Bluetooth");
        if (m instanceof BleException) throw (BleException) m;
        return (byte[]) m;
    }

    static String dayText(long day) {
        return Instant.ofEpochSecond(day * 86400L).atOffset(ZoneOffset.UTC).toLocalDate().toString();
    }
}
