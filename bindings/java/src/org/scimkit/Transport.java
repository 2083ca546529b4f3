package org.scimkit;

import java.util.List;
import java.util.Map;

/**
 * Sends the provisioner's requests to its target. {@code path} is below the target's SCIM base and {@code query}
 * is already percent-encoded. Throwing is a transport failure (the principal fails with the message); an HTTP
 * error status is a normal response.
 */
public interface Transport {
    Response send(Request request) throws Exception;

    record Request(String method, String path, String query, List<Map.Entry<String, String>> headers, byte[] body) {}

    record Response(int status, List<Map.Entry<String, String>> headers, byte[] body) {}
}
