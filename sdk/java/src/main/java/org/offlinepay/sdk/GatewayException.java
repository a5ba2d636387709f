package org.offlinepay.sdk;

/**
 * A gateway call that failed: `code` is the gateway's stable error code (docs/gateway-api.yaml, e.g. REPLAY,
 * UNKNOWN_WALLET, INSUFFICIENT_FUNDS, ALREADY_DISPUTED), or NETWORK (no answer), BAD_ANSWER (an answer that is not
 * the API's), UNSUPPORTED (a feature the gateway does not offer yet); `status` the HTTP status (0 without one).
 */
public class GatewayException extends OfflinePayException {
    public static final String NETWORK = "NETWORK", BAD_ANSWER = "BAD_ANSWER", UNSUPPORTED = "UNSUPPORTED";
    private final int status;

    public GatewayException(int status, String code, String message) {
        super(code, message);
        this.status = status;
    }

    public GatewayException(int status, String code, String message, Throwable cause) {
        super(code, message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
