package org.offlinepay.sdk;

/**
 * A Bluetooth session or payment refused (docs/wallet-sdk-java.md, "Errors"; the same codes as sdk/ble.ts):
 * B01..B06 (the terminal's ERROR codes, and B03/B04/B05 for what the wallet itself rejects), NO_ISSUER_KEYS,
 * NO_CLOCK, CERT_MALFORMED, CERT_UNTRUSTED, CERT_EXPIRED, SIGNATURE, TERMINAL_MISMATCH, REQUEST_SIGNATURE,
 * DECLINED, STATE, TIMEOUT, TRANSPORT (the app's BLE binding failed), CRYPTO.
 */
public class BleException extends OfflinePayException {
    public static final String NO_ISSUER_KEYS = "NO_ISSUER_KEYS", NO_CLOCK = "NO_CLOCK", CERT_MALFORMED = "CERT_MALFORMED",
            CERT_UNTRUSTED = "CERT_UNTRUSTED", CERT_EXPIRED = "CERT_EXPIRED", SIGNATURE = "SIGNATURE",
            TERMINAL_MISMATCH = "TERMINAL_MISMATCH", REQUEST_SIGNATURE = "REQUEST_SIGNATURE", DECLINED = "DECLINED",
            STATE = "STATE", TIMEOUT = "TIMEOUT", TRANSPORT = "TRANSPORT", CRYPTO = "CRYPTO";

    public BleException(String code, String message) {
        super(code, message);
    }

    public BleException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
