package org.offlinepay.sdk;

import java.io.IOException;

/**
 * What the session needs of a Bluetooth LE central: write a characteristic, receive its notifications (the
 * BleCentral of sdk/ble.ts). An Android app binds it to BluetoothGatt: write() to characteristic FFF2 of service
 * FFF0 (WRITE_TYPE_DEFAULT, waiting for onCharacteristicWrite before the next), and onCharacteristicChanged of FFF1
 * (after enabling its notifications) calls the listener. UUIDs are 16-bit (0xFFF1, 0xFFF2): on Android the full
 * UUID is 0000FFF1-0000-1000-8000-00805F9B34FB (the Bluetooth Base UUID).
 */
public interface BleTransport {
    /** Terminal to wallet (notify) and wallet to terminal (write), docs/protocol.md section 3. */
    int CHAR_TO_WALLET = 0xFFF1, CHAR_FROM_WALLET = 0xFFF2;

    /** Writes one frame (at most 20 bytes); may block until the write is done. */
    void write(int charUuid, byte[] frame) throws IOException;

    /** The one listener for notifications; called on any thread. */
    void setListener(Listener l);

    interface Listener {
        void onNotify(int charUuid, byte[] value);

        /** The link dropped: the session's waits end with TRANSPORT. */
        default void onDisconnect(String why) {}
    }
}
