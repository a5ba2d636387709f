package org.offlinepay.sdk;

/**
 * Every refusal of the SDK: a stable `code` a screen and a test can both name (the protocol's reject codes R01..R12
 * and B01..B06 where the terminal would refuse the same), and a message to show. Subclasses say where it came from.
 */
public class OfflinePayException extends Exception {
    private final String code;

    public OfflinePayException(String code, String message) {
        super(message);
        this.code = code;
    }

    public OfflinePayException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " " + code + ": " + getMessage();
    }
}
