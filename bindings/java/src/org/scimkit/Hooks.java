package org.scimkit;

import java.util.Map;

/**
 * What the application hears of every change, and its say before it (the {@code events} interface of
 * wit/scim.wit). Every method does nothing by default: implement what you need.
 *
 * <p>A change is a map: {@code resourceType}, {@code id} ({@code ""} before a create is stored), {@code operations}
 * (a list of {@code create}, {@code replace}, {@code patch}, {@code delete}, {@code members-added},
 * {@code members-removed}, {@code activated}, {@code deactivated}), {@code paths} (the changed attribute paths),
 * {@code before} and {@code after} (the SCIM resource as maps, or null; never with a password),
 * {@code membersAdded}, {@code membersRemoved} and {@code membersCleared}.
 */
public interface Hooks {
    /** Before every write: {@link Verdict#allow()} (the default), {@link Verdict#adjust} or {@link Verdict#refuse}. */
    default Verdict check(Map<String, Object> change) throws Exception {
        return Verdict.allow();
    }

    /** After every successful write, with the resource's new version ({@code ""} after a delete). */
    default void changed(Map<String, Object> change, String version) throws Exception {
    }

    /** What {@link #check} decides. */
    final class Verdict {
        final Map<String, Object> reply;

        private Verdict(Map<String, Object> reply) {
            this.reply = reply;
        }

        public static Verdict allow() {
            return new Verdict(null);
        }

        /** Write this SCIM resource instead (validated as a PUT body; members and the password are kept). */
        public static Verdict adjust(Map<String, Object> resource) {
            return new Verdict(Map.of("adjust", resource));
        }

        /** Refuse the write: the client gets this RFC 7644 error ({@code scimType} may be null). */
        public static Verdict refuse(int status, String scimType, String detail) {
            java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
            r.put("status", status);
            r.put("scimType", scimType);
            r.put("detail", detail);
            return new Verdict(Map.of("refuse", r));
        }
    }
}
