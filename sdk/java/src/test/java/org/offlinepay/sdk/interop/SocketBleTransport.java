package org.offlinepay.sdk.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.offlinepay.sdk.BleTransport;
import org.offlinepay.sdk.Bytes;

/**
 * A BleTransport over a loopback TCP socket, one frame a line: "W fff2 <hex>" is a write from the wallet, "N fff1
 * <hex>" a notification to it. The other end (test/java/java-sdk.test.ts) hands the frames to the simulator's
 * SimPhone, connected to the terminal's emulated NRF: the frames cross unchanged, as over the air.
 */
final class SocketBleTransport implements BleTransport, AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private volatile Listener listener;

    SocketBleTransport(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        Thread reader = new Thread(this::readLoop, "ble-bridge-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private void readLoop() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] p = line.trim().split(" ");
                if (p.length != 3 || !p[0].equals("N")) continue;
                Listener l = listener;
                if (l != null) l.onNotify(Integer.parseInt(p[1], 16), Bytes.fromHex(p[2]));
            }
            Listener l = listener;
            if (l != null) l.onDisconnect("the bridge closed");
        } catch (IOException e) {
            Listener l = listener;
            if (l != null) l.onDisconnect(e.getMessage());
        }
    }

    @Override
    public synchronized void write(int charUuid, byte[] frame) throws IOException {
        out.write(("W " + Integer.toHexString(charUuid) + " " + Bytes.toHex(frame) + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void setListener(Listener l) {
        listener = l;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
