package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.security.KeyPair;
import org.junit.jupiter.api.Test;

class P256Test {
    @Test
    void convertsDerSignaturesToRawAndBackWhateverTheIntegersLengths() throws Exception {
        byte[] raw = new byte[64];
        raw[0] = (byte) 0x80; // r needs a leading 00 in DER
        raw[63] = 1; // s is one byte long in DER
        byte[] der = P256.rawToDer(raw);
        assertEquals(0x30, der[0]);
        assertEquals(2 + 33 + 2 + 1 + 2, der.length);
        assertArrayEquals(raw, P256.derToRaw(der));
        assertThrows(java.security.GeneralSecurityException.class, () -> P256.derToRaw(new byte[] {0x31, 6, 2, 1, 1, 2, 1, 1}));
    }

    @Test
    void signsAsRawRSAndVerifiesOnlyTheSameData() throws Exception {
        KeyPair k = P256.generate();
        byte[] pub = P256.raw(k.getPublic());
        for (int i = 0; i < 20; i++) {
            byte[] d = ("message " + i).getBytes();
            byte[] sig = P256.sign(k.getPrivate(), d);
            assertEquals(64, sig.length);
            assertTrue(P256.verify(pub, sig, d));
            assertFalse(P256.verify(pub, sig, ("message " + (i + 1)).getBytes()));
        }
        assertFalse(P256.verify(new byte[64], new byte[64], new byte[1]), "a point not on the curve is false, not an exception");
    }

    @Test
    void bothSidesOfEcdhAgree() throws Exception {
        KeyPair a = P256.generate();
        KeyPair b = P256.generate();
        assertArrayEquals(P256.ecdh(a.getPrivate(), P256.raw(b.getPublic())), P256.ecdh(b.getPrivate(), P256.raw(a.getPublic())));
    }
}
