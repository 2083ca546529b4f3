package org.scimkit;

import java.util.List;
import java.util.Map;

/** Directory attributes to SCIM resources and back, by the declarative mapping (JSON; see wit/scim.wit). */
public final class ScimMapper implements AutoCloseable {
    private long handle;

    /** @throws ScimException naming the offending rule when the mapping is refused */
    public ScimMapper(String mappingJson) {
        handle = Native.mapperNew(mappingJson);
    }

    /** A mapping written in TOML, as the JSON this class takes. */
    public static String tomlToJson(String toml) {
        return Native.tomlToJson(toml);
    }

    /** The User, then each derived Group, as JSON texts. */
    public synchronized List<String> toResources(Map<String, List<String>> attributes) {
        open();
        Object[] split = Native.split(attributes);
        return List.of(Native.mapperToResources(handle, (String[]) split[0], (String[][]) split[1]));
    }

    /** One SCIM resource (JSON) back to flat attributes, under the names the mapping reads. */
    public synchronized Map<String, List<String>> toAttributes(String resourceJson) {
        open();
        return Native.rows(Native.mapperToAttributes(handle, resourceJson));
    }

    private void open() {
        if (handle == 0) {
            throw new ScimException("the mapper is closed");
        }
    }

    @Override
    public synchronized void close() {
        Native.mapperFree(handle);
        handle = 0;
    }
}
