package org.offlinepay.sdk;

import java.util.Base64;

/**
 * The QR text of a message (docs/protocol.md section 3, "QR codes"): a letter for its type, the version digit, then
 * Base45 of the binary message: "R1" request, "P1" payment, "X1" receipt, "I1" invoice, "C1" paid confirmation,
 * "O1" order, "F1" refund. An invoice may also come as the gateway's pay URL `<gateway>/pay#<base64url>`.
 */
public final class QrText {
    private QrText() {}

    /** A decoded text: the message bytes, or why not ("format": not ours or damaged; "version": a newer version). */
    public static final class Result {
        public final byte[] msg;
        public final String err;

        private Result(byte[] msg, String err) {
            this.msg = msg;
            this.err = err;
        }

        public boolean ok() {
            return msg != null;
        }
    }

    private static final String TYPES = "\u0010R\u0011P\u0012X\u0020I\u0021C\u0030O\u0040F";

    private static char letterOf(int type) {
        for (int i = 0; i < TYPES.length(); i += 2) if (TYPES.charAt(i) == type) return TYPES.charAt(i + 1);
        return 0;
    }

    private static int typeOf(char letter) {
        for (int i = 0; i < TYPES.length(); i += 2) if (TYPES.charAt(i + 1) == letter) return TYPES.charAt(i);
        return -1;
    }

    /** The QR text of a message, or "" for one never shown as a QR (Allowance, TerminalCert). */
    public static String encode(byte[] message) {
        char l = letterOf(message[1] & 255);
        return l == 0 ? "" : l + String.valueOf(Messages.VERSION) + Base45.encode(message);
    }

    public static Result decode(String text) {
        String t = text;
        // the scanner's tail is not part of the code
        while (t.length() > 0 && (t.charAt(t.length() - 1) == '\r' || t.charAt(t.length() - 1) == '\n')) t = t.substring(0, t.length() - 1);
        if (t.length() < 4) return new Result(null, "format");
        int type = typeOf(t.charAt(0));
        if (type < 0) return new Result(null, "format");
        char v = t.charAt(1);
        if (v != (char) ('0' + Messages.VERSION)) return new Result(null, v >= '0' && v <= '9' ? "version" : "format");
        byte[] b = Base45.decode(t.substring(2));
        if (b == null || b.length < 2 || (b[0] & 255) != Messages.VERSION || (b[1] & 255) != type) return new Result(null, "format");
        return new Result(b, null);
    }

    /** The invoice in a scanned invoice QR: the pay URL's fragment (base64url, RFC 4648 section 5) or "I1..." text. */
    public static Result decodeInvoice(String text) {
        int hash = text.indexOf("/pay#");
        if (hash < 0) {
            Result r = decode(text);
            return r.ok() && (r.msg[1] & 255) != Messages.INVOICE ? new Result(null, "format") : r;
        }
        String s = text.substring(hash + 5).trim();
        byte[] b;
        try {
            b = Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return new Result(null, "format");
        }
        if (b.length < 2 || (b[0] & 255) != Messages.VERSION || (b[1] & 255) != Messages.INVOICE) return new Result(null, "format");
        return new Result(b, null);
    }
}
