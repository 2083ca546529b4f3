package org.scimkit;

import java.util.List;
import java.util.Map;

/** One SCIM response; {@code headers} in order, a name may repeat. */
public record ScimResponse(int status, List<Map.Entry<String, String>> headers, String body) {
    /** The first value of a header, by name without regard to case, or null. */
    public String header(String name) {
        for (var h : headers) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }
}
