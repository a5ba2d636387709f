package org.offlinepay.sdk;

/**
 * The protocol's binary messages, version 1 (docs/protocol.md section 2): a port of protocol/messages.ts.
 * All integers are unsigned big-endian; every message starts with the version (1) and its type; a signed message is
 * body || R || S (64 bytes). A decoder returns null for anything that is not exactly one message of its type.
 */
public final class Messages {
    private Messages() {}

    public static final int VERSION = 1;
    public static final int SIG = 64;
    public static final int PUB = 64;

    /** Message types (docs/protocol.md section 2, the table of types). */
    public static final int ALLOWANCE = 0x01, TERMINAL_CERT = 0x02, REQUEST = 0x10, PAYMENT = 0x11, RECEIPT = 0x12,
            INVOICE = 0x20, PAID_CONFIRMATION = 0x21, ORDER = 0x30, REFUND = 0x40,
            /** A relay bundle: not signed, sealed to the gateway, carried unread (docs/protocol.md, "Relayed records"). */
            RELAY = 0x50;

    /** Lengths by type. */
    public static int lengthOf(int type) {
        switch (type) {
            case ALLOWANCE: return 140;
            case TERMINAL_CERT: return 141;
            case REQUEST: return 88;
            case PAYMENT: return 206;
            case RECEIPT: return 87;
            case INVOICE: return 84;
            case PAID_CONFIRMATION: return 94;
            case ORDER: return 44;
            case REFUND: return 85;
            default: return -1;
        }
    }

    static boolean open(byte[] b, int type) {
        return b != null && b.length == lengthOf(type) && (b[0] & 255) == VERSION && (b[1] & 255) == type;
    }

    /** The bytes a signature covers: the message without its trailing 64-byte signature. */
    public static byte[] signedPart(byte[] encoded) {
        return Bytes.slice(encoded, 0, encoded.length - SIG);
    }

    /** The trailing 64-byte R||S signature of a signed message. */
    public static byte[] signatureOf(byte[] encoded) {
        return Bytes.slice(encoded, encoded.length - SIG, encoded.length);
    }

    /** Allowance (140): walletPub (64) | capMinor (u24) | currency (u16) | expiryDay (u16) | startCounter (u16) | issuerKeyId | issuerSig. */
    public static final class Allowance {
        public final byte[] walletPub;
        public final int capMinor, currency, expiryDay, startCounter, issuerKeyId;
        public final byte[] issuerSig;
        /** The whole message (140 bytes). */
        public final byte[] bytes;

        private Allowance(byte[] b) {
            bytes = b.clone();
            walletPub = Bytes.slice(b, 2, 66);
            capMinor = Bytes.u24(b, 66);
            currency = Bytes.u16(b, 69);
            expiryDay = Bytes.u16(b, 71);
            startCounter = Bytes.u16(b, 73);
            issuerKeyId = Bytes.u8(b, 75);
            issuerSig = Bytes.slice(b, 76, 140);
        }

        public static Allowance decode(byte[] b) {
            return open(b, ALLOWANCE) ? new Allowance(b) : null;
        }
    }

    /** TerminalCert (141): terminalId (u32) | merchantId (u32) | terminalPub (64) | expiryDay (u16) | issuerKeyId | issuerSig. */
    public static final class TerminalCert {
        public final long terminalId, merchantId;
        public final byte[] terminalPub;
        public final int expiryDay, issuerKeyId;
        public final byte[] issuerSig;
        public final byte[] bytes;

        private TerminalCert(byte[] b) {
            bytes = b.clone();
            terminalId = Bytes.u32(b, 2);
            merchantId = Bytes.u32(b, 6);
            terminalPub = Bytes.slice(b, 10, 74);
            expiryDay = Bytes.u16(b, 74);
            issuerKeyId = Bytes.u8(b, 76);
            issuerSig = Bytes.slice(b, 77, 141);
        }

        public static TerminalCert decode(byte[] b) {
            return open(b, TERMINAL_CERT) ? new TerminalCert(b) : null;
        }
    }

    /** Request (88): terminalId (u32) | amountMinor (u32) | currency (u16) | nonce (8) | time (u32) | terminalSig. */
    public static final class Request {
        public final long terminalId, amountMinor;
        public final int currency;
        public final byte[] nonce;
        /** The terminal's clock, Unix seconds. */
        public final long time;
        public final byte[] terminalSig;
        public final byte[] bytes;

        private Request(byte[] b) {
            bytes = b.clone();
            terminalId = Bytes.u32(b, 2);
            amountMinor = Bytes.u32(b, 6);
            currency = Bytes.u16(b, 10);
            nonce = Bytes.slice(b, 12, 20);
            time = Bytes.u32(b, 20);
            terminalSig = Bytes.slice(b, 24, 88);
        }

        public static Request decode(byte[] b) {
            return open(b, REQUEST) ? new Request(b) : null;
        }
    }

    /** Payment (206): the allowance without its 2 header bytes (138) | counter (u16) | walletSig (64). */
    public static final class Payment {
        public final Allowance allowance;
        public final int counter;
        public final byte[] walletSig;
        public final byte[] bytes;

        private Payment(byte[] b, Allowance a) {
            bytes = b.clone();
            allowance = a;
            counter = Bytes.u16(b, 140);
            walletSig = Bytes.slice(b, 142, 206);
        }

        public static Payment decode(byte[] b) {
            if (!open(b, PAYMENT)) return null;
            Allowance a = Allowance.decode(allowanceOf(b));
            return a == null ? null : new Payment(b, a);
        }

        /** The allowance inside a payment with its header bytes 01 01 put back (what the issuer signed). */
        static byte[] allowanceOf(byte[] payment) {
            byte[] whole = new byte[140];
            whole[0] = VERSION;
            whole[1] = ALLOWANCE;
            System.arraycopy(payment, 2, whole, 2, 138);
            return whole;
        }

        /** The payment for `allowance` and `counter` with the signature `walletSig` (64 zero bytes before signing). */
        public static byte[] encode(byte[] allowance, int counter, byte[] walletSig) {
            byte[] out = new byte[206];
            out[0] = VERSION;
            out[1] = PAYMENT;
            System.arraycopy(allowance, 2, out, 2, 138);
            Bytes.putU16(out, 140, counter);
            System.arraycopy(walletSig, 0, out, 142, SIG);
            return out;
        }
    }

    /** Receipt (87): txId (8) | status (u8: 0 accepted offline, 1 settled) | time (u32) | paymentHash (8) | terminalSig. */
    public static final class Receipt {
        public final byte[] txId;
        public final int status;
        public final long time;
        public final byte[] paymentHash;
        public final byte[] terminalSig;
        public final byte[] bytes;

        private Receipt(byte[] b) {
            bytes = b.clone();
            txId = Bytes.slice(b, 2, 10);
            status = Bytes.u8(b, 10);
            time = Bytes.u32(b, 11);
            paymentHash = Bytes.slice(b, 15, 23);
            terminalSig = Bytes.slice(b, 23, 87);
        }

        public static Receipt decode(byte[] b) {
            return open(b, RECEIPT) ? new Receipt(b) : null;
        }
    }

    /** Invoice (84): terminalId | invoiceNo | amountMinor (u32 each) | currency (u16) | expires (u32) | terminalSig. */
    public static final class Invoice {
        public final long terminalId, invoiceNo, amountMinor;
        public final int currency;
        public final long expires;
        public final byte[] terminalSig;
        public final byte[] bytes;

        private Invoice(byte[] b) {
            bytes = b.clone();
            terminalId = Bytes.u32(b, 2);
            invoiceNo = Bytes.u32(b, 6);
            amountMinor = Bytes.u32(b, 10);
            currency = Bytes.u16(b, 14);
            expires = Bytes.u32(b, 16);
            terminalSig = Bytes.slice(b, 20, 84);
        }

        public static Invoice decode(byte[] b) {
            return open(b, INVOICE) ? new Invoice(b) : null;
        }
    }

    /** PaidConfirmation (94): terminalId | invoiceNo | amountMinor | currency | paidAt | method | paymentRef (8) | issuerKeyId | issuerSig. */
    public static final class PaidConfirmation {
        public final long terminalId, invoiceNo, amountMinor;
        public final int currency;
        public final long paidAt;
        public final int method;
        public final byte[] paymentRef;
        public final int issuerKeyId;
        public final byte[] issuerSig;
        public final byte[] bytes;

        private PaidConfirmation(byte[] b) {
            bytes = b.clone();
            terminalId = Bytes.u32(b, 2);
            invoiceNo = Bytes.u32(b, 6);
            amountMinor = Bytes.u32(b, 10);
            currency = Bytes.u16(b, 14);
            paidAt = Bytes.u32(b, 16);
            method = Bytes.u8(b, 20);
            paymentRef = Bytes.slice(b, 21, 29);
            issuerKeyId = Bytes.u8(b, 29);
            issuerSig = Bytes.slice(b, 30, 94);
        }

        public static PaidConfirmation decode(byte[] b) {
            return open(b, PAID_CONFIRMATION) ? new PaidConfirmation(b) : null;
        }
    }

    /** Order (44): merchantId (u32) | orderRef (12 printable ASCII, zero-padded) | amountMinor | currency | expires | tag (16). */
    public static final class Order {
        public final long merchantId;
        public final String orderRef;
        public final long amountMinor;
        public final int currency;
        public final long expires;
        public final byte[] tag;
        public final byte[] bytes;

        private Order(byte[] b, String ref) {
            bytes = b.clone();
            merchantId = Bytes.u32(b, 2);
            orderRef = ref;
            amountMinor = Bytes.u32(b, 18);
            currency = Bytes.u16(b, 22);
            expires = Bytes.u32(b, 24);
            tag = Bytes.slice(b, 28, 44);
        }

        public static Order decode(byte[] b) {
            if (!open(b, ORDER)) return null;
            StringBuilder ref = new StringBuilder();
            boolean ended = false;
            for (int i = 6; i < 18; i++) {
                int c = b[i] & 255;
                if (c == 0) ended = true;
                else if (ended || c < 0x21 || c > 0x7e) return null; // printable ASCII, zero padding only at the end
                else ref.append((char) c);
            }
            return ref.length() == 0 ? null : new Order(b, ref.toString());
        }
    }

    /** Refund (85): txId (8) | amountMinor (u32) | currency (u16) | time (u32) | reason (u8) | terminalSig. */
    public static final class Refund {
        public final byte[] txId;
        public final long amountMinor;
        public final int currency;
        public final long time;
        public final int reason;
        public final byte[] terminalSig;
        public final byte[] bytes;

        private Refund(byte[] b) {
            bytes = b.clone();
            txId = Bytes.slice(b, 2, 10);
            amountMinor = Bytes.u32(b, 10);
            currency = Bytes.u16(b, 14);
            time = Bytes.u32(b, 16);
            reason = Bytes.u8(b, 20);
            terminalSig = Bytes.slice(b, 21, 85);
        }

        public static Refund decode(byte[] b) {
            return open(b, REFUND) ? new Refund(b) : null;
        }
    }
}
