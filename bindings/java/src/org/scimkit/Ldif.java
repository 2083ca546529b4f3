package org.scimkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** LDIF content records (RFC 2849) as attribute maps, each with its {@code dn}; read by the native library. */
public final class Ldif {
    private Ldif() {}

    /** @throws ScimException naming the line of a malformed or unsupported record */
    public static List<Map<String, List<String>>> parse(String text) {
        List<Map<String, List<String>>> out = new ArrayList<>();
        for (String[][] entry : Native.parseLdif(text)) {
            out.add(Native.rows(entry));
        }
        return out;
    }
}
