package org.offlinepay.sdk;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesAndReadsBackObjectsArraysStringsAndNumbers() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", "x\"y\\\n\u0001é");
        m.put("n", 12345678901L);
        m.put("l", Arrays.asList(1L, true, null, 2.5));
        String t = Json.write(m);
        assertEquals("{\"a\":\"x\\\"y\\\\\\n\\u0001é\",\"n\":12345678901,\"l\":[1,true,null,2.5]}", t);
        assertEquals(m, Json.parse(t));
        assertEquals("é", Json.parse("\"\\u00e9\""));
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : new String[] {"", "{", "{\"a\"}", "[1,]x", "\"open", "{'a':1}", "1 2"}) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }
}
