package org.offlinepay.sdk;

/**
 * How a payment becomes the text of the QR code the phone shows. Today: the plain "P1" + Base45 text
 * (docs/protocol.md section 3). Extension point for issue 16 (an encrypted payment QR for the terminal): a wallet
 * app plugs in the encrypted format here once the protocol defines it, with no change to Wallet.pay().
 */
public interface PaymentQrFormat {
    /** The QR text for `payment` (206 bytes) answering `request` (88 bytes, the terminal's, signature included). */
    String encode(byte[] payment, Messages.Request request) throws OfflinePayException;

    /** "P1" + Base45 of the payment: 311 characters, QR version 10 at ECC level M, alphanumeric mode. */
    PaymentQrFormat PLAIN = (payment, request) -> QrText.encode(payment);
}
