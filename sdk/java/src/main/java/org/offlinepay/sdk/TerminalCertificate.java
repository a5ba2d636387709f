package org.offlinepay.sdk;

import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Checks a terminal's certificate outside a Bluetooth session (a QR payment, whose receipt is then checked against
 * the certificate's key): the issuer's signature by the key its issuerKeyId names, its expiry by the app's clock,
 * and the terminal ID the request named. The same rules as BleSession.open().
 */
public final class TerminalCertificate {
    private TerminalCertificate() {}

    /**
     * The decoded certificate when it passes; WalletException CERT_MALFORMED, CERT_UNTRUSTED (unknown issuer key or
     * not its signature), CERT_EXPIRED, NO_CLOCK, TERMINAL_MISMATCH (expectedTerminalId >= 0 and not the certificate's).
     */
    public static Messages.TerminalCert check(byte[] cert, Map<Integer, byte[]> issuerKeys, LongSupplier wallClockMs, long expectedTerminalId) throws WalletException {
        Messages.TerminalCert c = Messages.TerminalCert.decode(cert);
        if (c == null) throw new WalletException("CERT_MALFORMED", "The terminal's certificate is malformed");
        byte[] ik = issuerKeys == null ? null : issuerKeys.get(c.issuerKeyId);
        if (ik == null) throw new WalletException("CERT_UNTRUSTED", "The terminal's certificate names issuer key " + c.issuerKeyId + ", which this wallet does not trust");
        if (!P256.verify(ik, c.issuerSig, Messages.signedPart(cert))) throw new WalletException("CERT_UNTRUSTED", "The terminal's certificate is not signed by the issuer (key " + c.issuerKeyId + ")");
        try {
            BleSession.checkExpiry(c, wallClockMs);
        } catch (BleException e) {
            throw new WalletException(e.code(), e.getMessage());
        }
        if (expectedTerminalId >= 0 && c.terminalId != expectedTerminalId) {
            throw new WalletException("TERMINAL_MISMATCH", "The certificate is for terminal " + c.terminalId + ", not terminal " + expectedTerminalId);
        }
        return c;
    }
}
