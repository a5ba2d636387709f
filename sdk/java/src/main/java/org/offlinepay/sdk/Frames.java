package org.offlinepay.sdk;

import java.util.ArrayList;
import java.util.List;

/**
 * A session message as Bluetooth LE writes and notifications of at most 20 bytes (docs/protocol.md section 3,
 * "Bluetooth LE"; port of protocol/ble-frames.ts). Byte 0: bit 7 first frame, bit 6 last frame, bits 5..0 the
 * sequence (0 on the first, +1 mod 64); the first frame then has the total length (u16, 1..512).
 */
public final class Frames {
    private Frames() {}

    public static final int FRAME = 20;
    public static final int MAX_MESSAGE = 512;
    /** The wallet's limit for messages from the terminal: a relay bundle of 4 records is 1,447 bytes. */
    public static final int MAX_TO_WALLET = 2048;
    public static final long FRAME_TIMEOUT_MS = 2000;

    public static List<byte[]> split(byte[] msg) {
        List<byte[]> out = new ArrayList<>();
        int pos = 0;
        int seq = 0;
        while (pos < msg.length || out.isEmpty()) {
            boolean first = out.isEmpty();
            int room = first ? FRAME - 3 : FRAME - 1;
            int n = Math.min(room, msg.length - pos);
            boolean last = pos + n >= msg.length;
            byte[] f = new byte[(first ? 3 : 1) + n];
            f[0] = (byte) ((first ? 0x80 : 0) | (last ? 0x40 : 0) | (seq & 63));
            if (first) Bytes.putU16(f, 1, msg.length);
            System.arraycopy(msg, pos, f, first ? 3 : 1, n);
            out.add(f);
            pos += n;
            seq++;
        }
        return out;
    }

    /** Frames back to messages. push() returns a whole message, null while more frames are due, or throws. */
    public static final class Reassembler {
        private byte[] buf;
        private int got;
        private int seq;
        private long lastAt;
        private final int max;

        /** A reassembler taking messages of up to MAX_MESSAGE bytes. */
        public Reassembler() {
            this(MAX_MESSAGE);
        }

        /** A reassembler taking messages of up to `max` bytes (the wallet's side: MAX_TO_WALLET). */
        public Reassembler(int max) {
            this.max = max;
        }

        /** A frame that ends the message in progress: reason "frame", "length", "sequence" or "timeout". */
        public static final class FrameError extends Exception {
            public final String reason;

            FrameError(String reason) {
                super("Bluetooth frame rejected: " + reason);
                this.reason = reason;
            }
        }

        public byte[] push(byte[] frame, long nowMs) throws FrameError {
            if (buf != null && nowMs - lastAt > FRAME_TIMEOUT_MS) {
                buf = null;
                if (!(frame.length > 0 && (frame[0] & 0x80) != 0)) throw new FrameError("timeout");
            }
            lastAt = nowMs;
            if (frame.length == 0 || frame.length > FRAME) throw fail("frame");
            int h = frame[0] & 255;
            boolean first = (h & 0x80) != 0;
            boolean last = (h & 0x40) != 0;
            int from;
            if (first) {
                if (frame.length < 3 || (h & 63) != 0) throw fail("frame");
                int total = Bytes.u16(frame, 1);
                if (total < 1 || total > max) throw fail("length");
                buf = new byte[total];
                got = 0;
                seq = 0;
                from = 3;
            } else {
                if (buf == null || (h & 63) != ((seq + 1) & 63)) throw fail("sequence");
                seq = h & 63;
                from = 1;
            }
            int n = frame.length - from;
            if (got + n > buf.length) throw fail("length");
            System.arraycopy(frame, from, buf, got, n);
            got += n;
            if (!last) return null;
            if (got != buf.length) throw fail("length");
            byte[] m = buf;
            buf = null;
            return m;
        }

        public void reset() {
            buf = null;
        }

        private FrameError fail(String reason) {
            buf = null;
            return new FrameError(reason);
        }
    }
}
