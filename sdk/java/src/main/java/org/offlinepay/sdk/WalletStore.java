package org.offlinepay.sdk;

import java.io.IOException;

/**
 * Where a wallet keeps its state. save() must be durable when it returns (a counter is reserved by saving it
 * BEFORE the payment is signed and shown): on Android, write a file and fsync it, or SharedPreferences.commit()
 * (not apply()). Throwing from save() stops the payment (WalletException STORE) before anything is signed.
 */
public interface WalletStore {
    /** The saved state, or null when there is none yet. */
    WalletState load() throws IOException;

    void save(WalletState s) throws IOException;

    /** In memory only: counters restart with the process (tests; never for a real wallet). */
    final class Memory implements WalletStore {
        private WalletState s;

        @Override
        public synchronized WalletState load() {
            return s;
        }

        @Override
        public synchronized void save(WalletState st) {
            s = st;
        }
    }
}
