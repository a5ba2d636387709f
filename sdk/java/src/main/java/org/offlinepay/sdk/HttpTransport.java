package org.offlinepay.sdk;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * How the gateway client reaches the gateway: one HTTP exchange, blocking. UrlConnection (java.net, on Android
 * too) is the default; an app may bind its own HTTP stack (OkHttp, with certificate pinning) behind this.
 */
public interface HttpTransport {
    /** One exchange: the status and the body as text; IOException when no answer came. */
    Response send(String method, String url, Map<String, String> headers, String body) throws IOException;

    final class Response {
        public final int status;
        public final String body;

        public Response(int status, String body) {
            this.status = status;
            this.body = body;
        }
    }

    /** java.net.HttpURLConnection with connect and read timeouts. Android: call it off the main thread. */
    final class UrlConnection implements HttpTransport {
        private final int timeoutMs;

        public UrlConnection(int timeoutMs) {
            this.timeoutMs = timeoutMs;
        }

        @Override
        public Response send(String method, String url, Map<String, String> headers, String body) throws IOException {
            HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
            try {
                c.setRequestMethod(method);
                c.setConnectTimeout(timeoutMs);
                c.setReadTimeout(timeoutMs);
                c.setUseCaches(false);
                for (Map.Entry<String, String> h : headers.entrySet()) c.setRequestProperty(h.getKey(), h.getValue());
                if (body != null) {
                    byte[] b = body.getBytes(StandardCharsets.UTF_8);
                    c.setDoOutput(true);
                    c.setFixedLengthStreamingMode(b.length);
                    try (OutputStream out = c.getOutputStream()) {
                        out.write(b);
                    }
                }
                int status = c.getResponseCode();
                InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
                return new Response(status, in == null ? "" : readAll(in));
            } finally {
                c.disconnect();
            }
        }

        private static String readAll(InputStream in) throws IOException {
            try (InputStream i = in) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buf = new byte[4096];
                for (int n; (n = i.read(buf)) > 0; ) out.write(buf, 0, n);
                return new String(out.toByteArray(), StandardCharsets.UTF_8);
            }
        }
    }
}
