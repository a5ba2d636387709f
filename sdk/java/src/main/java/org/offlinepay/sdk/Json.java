package org.offlinepay.sdk;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON (RFC 8259) the gateway API and the saved state need, with java.* only (org.json is Android's,
 * not the JDK's). Objects are LinkedHashMap (key order kept), arrays List, numbers Long when integral else Double.
 */
public final class Json {
    private Json() {}

    public static String write(Object v) {
        StringBuilder s = new StringBuilder();
        write(s, v);
        return s.toString();
    }

    @SuppressWarnings("unchecked")
    private static void write(StringBuilder s, Object v) {
        if (v == null) s.append("null");
        else if (v instanceof String) quote(s, (String) v);
        else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) s.append(v);
        else if (v instanceof Number) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("JSON has no " + d);
            if (d == Math.rint(d) && Math.abs(d) < 9007199254740992.0) s.append((long) d);
            else s.append(d);
        } else if (v instanceof Map) {
            s.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                if (!first) s.append(',');
                first = false;
                quote(s, e.getKey());
                s.append(':');
                write(s, e.getValue());
            }
            s.append('}');
        } else if (v instanceof List) {
            s.append('[');
            boolean first = true;
            for (Object o : (List<Object>) v) {
                if (!first) s.append(',');
                first = false;
                write(s, o);
            }
            s.append(']');
        } else throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    private static void quote(StringBuilder s, String t) {
        s.append('"');
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '"' || c == '\\') s.append('\\').append(c);
            else if (c == '\n') s.append("\\n");
            else if (c == '\r') s.append("\\r");
            else if (c == '\t') s.append("\\t");
            else if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
            else s.append(c);
        }
        s.append('"');
    }

    /** Parses one JSON value; IllegalArgumentException when the text is not JSON. */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.i != text.length()) throw p.err("trailing text");
        return v;
    }

    private static final class Parser {
        final String t;
        int i;

        Parser(String t) {
            this.t = t;
        }

        IllegalArgumentException err(String what) {
            return new IllegalArgumentException("not JSON: " + what + " at " + i);
        }

        void ws() {
            while (i < t.length() && " \t\r\n".indexOf(t.charAt(i)) >= 0) i++;
        }

        Object value() {
            if (i >= t.length()) throw err("end of text");
            char c = t.charAt(i);
            if (c == '{') return object();
            if (c == '[') return array();
            if (c == '"') return string();
            if (t.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (t.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (t.startsWith("null", i)) { i += 4; return null; }
            return number();
        }

        Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (i < t.length() && t.charAt(i) == '}') { i++; return m; }
            while (true) {
                ws();
                if (i >= t.length() || t.charAt(i) != '"') throw err("key expected");
                String k = string();
                ws();
                if (i >= t.length() || t.charAt(i++) != ':') throw err("':' expected");
                ws();
                m.put(k, value());
                ws();
                if (i >= t.length()) throw err("end of text");
                char c = t.charAt(i++);
                if (c == '}') return m;
                if (c != ',') throw err("',' expected");
            }
        }

        List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (i < t.length() && t.charAt(i) == ']') { i++; return l; }
            while (true) {
                ws();
                l.add(value());
                ws();
                if (i >= t.length()) throw err("end of text");
                char c = t.charAt(i++);
                if (c == ']') return l;
                if (c != ',') throw err("',' expected");
            }
        }

        String string() {
            StringBuilder s = new StringBuilder();
            i++;
            while (true) {
                if (i >= t.length()) throw err("unterminated string");
                char c = t.charAt(i++);
                if (c == '"') return s.toString();
                if (c != '\\') { s.append(c); continue; }
                if (i >= t.length()) throw err("bad escape");
                char e = t.charAt(i++);
                switch (e) {
                    case '"': case '\\': case '/': s.append(e); break;
                    case 'b': s.append('\b'); break;
                    case 'f': s.append('\f'); break;
                    case 'n': s.append('\n'); break;
                    case 'r': s.append('\r'); break;
                    case 't': s.append('\t'); break;
                    case 'u':
                        if (i + 4 > t.length()) throw err("bad \\u escape");
                        try {
                            s.append((char) Integer.parseInt(t.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw err("bad \\u escape");
                        }
                        i += 4;
                        break;
                    default: throw err("bad escape");
                }
            }
        }

        Object number() {
            int from = i;
            if (i < t.length() && t.charAt(i) == '-') i++;
            while (i < t.length() && "0123456789.eE+-".indexOf(t.charAt(i)) >= 0) i++;
            String n = t.substring(from, i);
            if (n.isEmpty() || n.equals("-")) throw err("value expected");
            try {
                if (n.indexOf('.') < 0 && n.indexOf('e') < 0 && n.indexOf('E') < 0) return Long.parseLong(n);
                return Double.parseDouble(n);
            } catch (NumberFormatException x) {
                throw err("bad number");
            }
        }
    }
}
