package org.offlinepay.sdk;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

/**
 * The terminal's side of the Bluetooth session in Java, for the session's unit tests (the real one is
 * protocol/ble-session.ts, met in the interop test): answers HELLO with ACCEPT, sends its Request, answers a Payment
 * with a signed Receipt. Each field can be set to misbehave. Notifications are delivered at once, on the writer's thread.
 */
final class FakeTerminal implements BleTransport {
    KeyPair identity;
    byte[] cert;
    /** The first message after ACCEPT: a Request, or an Invoice. */
    byte[] request;
    /** Signs the session key with this key instead of the identity (a terminal that is not the certificate's). */
    KeyPair sessionSigner;
    /** Sends nothing at all (TIMEOUT). */
    boolean silent;
    /** Flips a byte of the sealed request (B03), or sends it twice (B04). */
    boolean tamper, replay;
    /** Answers HELLO with ERROR and this code. */
    String errorCode;
    /** A relay bundle sent right after the first message, as the terminal does (docs/protocol.md "Relayed records"). */
    byte[] relay;

    final List<byte[]> payments = new ArrayList<>();
    private Listener listener;
    private final Frames.Reassembler rx = new Frames.Reassembler();
    private Seal.Keys w2t, t2w;
    private long seq;

    @Override
    public void setListener(Listener l) {
        listener = l;
    }

    @Override
    public void write(int uuid, byte[] frame) {
        if (uuid != CHAR_FROM_WALLET) throw new AssertionError("write to " + Integer.toHexString(uuid));
        if (frame.length > 20) throw new AssertionError("a write of " + frame.length + " bytes: ESP32 takes 20 at most");
        byte[] m;
        try {
            m = rx.push(frame, 0);
        } catch (Frames.Reassembler.FrameError e) {
            throw new AssertionError(e);
        }
        if (m == null || silent) return;
        try {
            if (m[0] == BleSession.HELLO) hello(m);
            else if (m[0] == BleSession.DATA) data(m);
            else throw new AssertionError("kind " + m[0]);
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private void hello(byte[] m) throws Exception {
        if (errorCode != null) {
            notifyMsg(Bytes.concat(new byte[] {BleSession.ERROR}, errorCode.getBytes(StandardCharsets.US_ASCII)));
            return;
        }
        byte[] eph = Bytes.slice(m, 2, 66);
        KeyPair s = P256.generate();
        byte[] sessionPub = P256.raw(s.getPublic());
        byte[] transcript = Bytes.concat("ble-session v1".getBytes(StandardCharsets.US_ASCII), eph, sessionPub);
        byte[] sig = P256.sign((sessionSigner != null ? sessionSigner : identity).getPrivate(), transcript);
        byte[] z = P256.ecdh(s.getPrivate(), eph);
        byte[] th = Bytes.sha256(transcript);
        w2t = new Seal.Keys(2, key(z, "w2t enc", th), key(z, "w2t mac", th));
        t2w = new Seal.Keys(3, key(z, "t2w enc", th), key(z, "t2w mac", th));
        notifyMsg(Bytes.concat(new byte[] {BleSession.ACCEPT, 1}, sessionPub, sig, cert));
        byte[] env = Seal.seal(t2w, ++seq, request);
        if (tamper) env[30] ^= 1;
        notifyMsg(Bytes.concat(new byte[] {BleSession.DATA}, env));
        if (replay) notifyMsg(Bytes.concat(new byte[] {BleSession.DATA}, env));
        if (relay != null) notifyMsg(Bytes.concat(new byte[] {BleSession.DATA}, Seal.seal(t2w, ++seq, relay)));
    }

    private void data(byte[] m) throws Exception {
        Seal.Opened o = Seal.unseal(w2t, Bytes.slice(m, 1, m.length));
        payments.add(o.data);
        byte[] rc = Fixtures.receipt(identity.getPrivate(), Utr.txId(Messages.TerminalCert.decode(cert).terminalId, 17), 0, Fixtures.NOW_S + 2, o.data);
        notifyMsg(Bytes.concat(new byte[] {BleSession.DATA}, Seal.seal(t2w, ++seq, rc)));
    }

    private static byte[] key(byte[] z, String label, byte[] th) throws Exception {
        return Bytes.slice(Seal.hmac(z, label.getBytes(StandardCharsets.US_ASCII), th), 0, 16);
    }

    private void notifyMsg(byte[] msg) {
        for (byte[] f : Frames.split(msg)) listener.onNotify(CHAR_TO_WALLET, f);
    }
}
