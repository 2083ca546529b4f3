package org.scimkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Called by the native side with plain arrays; never throws, so no Java exception reaches Rust. */
final class TransportBridge {
    /** Status -1 means a transport failure, its message in {@code body}. */
    static final class Reply {
        final int status;
        final String[] headers;
        final byte[] body;

        Reply(int status, String[] headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }
    }

    private final Transport transport;

    TransportBridge(Transport transport) {
        this.transport = transport;
    }

    Reply send(String method, String path, String query, String[] headers, byte[] body) {
        try {
            List<Map.Entry<String, String>> hs = new ArrayList<>();
            for (int i = 0; i + 1 < headers.length; i += 2) {
                hs.add(Map.entry(headers[i], headers[i + 1]));
            }
            Transport.Response r = transport.send(new Transport.Request(method, path, query, hs, body));
            String[] flat = new String[r.headers().size() * 2];
            for (int i = 0; i < r.headers().size(); i++) {
                flat[2 * i] = r.headers().get(i).getKey();
                flat[2 * i + 1] = r.headers().get(i).getValue();
            }
            return new Reply(r.status(), flat, r.body() == null ? new byte[0] : r.body());
        } catch (Throwable t) {
            String message = t.getMessage() == null ? t.getClass().getName() : t.getClass().getSimpleName() + ": " + t.getMessage();
            return new Reply(-1, new String[0], message.getBytes(StandardCharsets.UTF_8));
        }
    }
}
