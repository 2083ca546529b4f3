package org.scimkit;

/**
 * The native library {@code libscimkit_native.so} (bindings/native: the C ABI and these JNI entry points, with the
 * scimkit component built in). Loaded from the path in the system property {@code scimkit.library} when set, else
 * from this jar (see {@link BundledLibrary}), else by name from {@code java.library.path}.
 */
final class Native {
    static {
        String path = System.getProperty("scimkit.library");
        java.nio.file.Path bundled;
        if (path != null) {
            System.load(java.nio.file.Path.of(path).toAbsolutePath().toString());
        } else if ((bundled = BundledLibrary.extract()) != null) {
            System.load(bundled.toString());
            BundledLibrary.remove(bundled);
        } else {
            System.loadLibrary("scimkit_native");
        }
    }

    private Native() {}

    static native long providerNew(String component, String cacheDir, String config);
    static native String[] providerHandle(long handle, String method, String path, String query, String[] headers, byte[] body,
                                          String principal, StorageBridge storage);
    static native void providerFree(long handle);

    static native long provisionerNew(String config);
    static native String[] provisionerProvision(long handle, String service, String[] names, String[][] values, TransportBridge transport);
    static native void provisionerFree(long handle);

    static native long mapperNew(String mapping);
    static native String[] mapperToResources(long handle, String[] names, String[][] values);
    static native String[][] mapperToAttributes(long handle, String resource);
    static native void mapperFree(long handle);

    static native String[][][] parseLdif(String text);
    static native String tomlToJson(String text);

    /** Attributes as the two parallel arrays the native side reads. */
    static Object[] split(java.util.Map<String, java.util.List<String>> attributes) {
        String[] names = new String[attributes.size()];
        String[][] values = new String[attributes.size()][];
        int i = 0;
        for (var e : attributes.entrySet()) {
            names[i] = e.getKey();
            values[i] = e.getValue().toArray(new String[0]);
            i++;
        }
        return new Object[] {names, values};
    }

    /** Rows of name-then-values back to a map, in order. */
    static java.util.Map<String, java.util.List<String>> rows(String[][] rows) {
        var out = new java.util.LinkedHashMap<String, java.util.List<String>>();
        for (String[] row : rows) {
            out.put(row[0], java.util.List.of(row).subList(1, row.length));
        }
        return out;
    }
}
