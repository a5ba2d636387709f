package org.offlinepay.sdk;

/**
 * A payment or receipt the wallet refuses (docs/wallet-sdk-java.md, "Errors"). Codes: R01 (not a request, damaged,
 * no amount), R02 (newer protocol version), R05 (allowance expired by the terminal's date), R06 (currency), R07
 * (amount over what remains), KEY (the allowance is for another key), COUNTER (counters used up), ALLOWANCE (not an
 * allowance), RECEIPT (not a receipt), MISMATCH (a receipt for another payment), SIGNATURE (not the terminal's),
 * STORE (the state could not be saved: nothing was signed), CRYPTO (the platform's crypto failed), RELAY (bytes given
 * to keepRelayed that are no relay bundle).
 */
public class WalletException extends OfflinePayException {
    public static final String R01 = "R01", R02 = "R02", R05 = "R05", R06 = "R06", R07 = "R07", KEY = "KEY", COUNTER = "COUNTER",
            ALLOWANCE = "ALLOWANCE", RECEIPT = "RECEIPT", MISMATCH = "MISMATCH", SIGNATURE = "SIGNATURE", STORE = "STORE", CRYPTO = "CRYPTO",
            RELAY = "RELAY";

    public WalletException(String code, String message) {
        super(code, message);
    }

    public WalletException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
