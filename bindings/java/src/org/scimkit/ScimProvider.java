package org.scimkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A SCIM service provider over an application's {@link Storage}: hand it each HTTP request below the SCIM base.
 * Authentication is the caller's: check credentials before calling {@link #handle}.
 *
 * <p>Thread-safe: any number of threads may call {@link #handle} at once. The native library keeps, per
 * component and configuration, a pool of engine instances shared by every {@code ScimProvider} of the process
 * (an instance per concurrent call, up to four kept idle), so creating one per request costs little.
 */
public final class ScimProvider implements AutoCloseable {
    private final StorageBridge bridge;
    /** close() waits for running calls: the native handle is freed only when no call uses it. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    /** With the component built into the native library. */
    public ScimProvider(String configJson, Storage storage) {
        this(null, null, configJson, storage);
    }

    /**
     * @param component the component file ({@code target/scimkit.wasm}); null: the one built into the library
     * @param cacheDir where the compiled component is cached; null: next to the component (none for the built-in)
     * @param configJson the engine configuration ({@code baseUrl}, {@code mapping}, …; see wit/scim.wit)
     * @throws ScimException naming the offending key when the configuration is refused
     */
    public ScimProvider(Path component, Path cacheDir, String configJson, Storage storage) {
        this(component, cacheDir, configJson, storage, new Hooks() {});
    }

    /** With {@code hooks}: what the application hears of every change, and its say before each write. */
    public ScimProvider(String configJson, Storage storage, Hooks hooks) {
        this(null, null, configJson, storage, hooks);
    }

    /** See {@link #ScimProvider(Path, Path, String, Storage)} and {@link Hooks}. */
    public ScimProvider(Path component, Path cacheDir, String configJson, Storage storage, Hooks hooks) {
        Objects.requireNonNull(configJson, "configJson");
        this.bridge = new StorageBridge(Objects.requireNonNull(storage, "storage"), Objects.requireNonNull(hooks, "hooks"));
        this.handle = Native.providerNew(component == null ? null : component.toString(),
                cacheDir == null ? null : cacheDir.toString(), configJson);
    }

    /** {@link #handle(String, String, String, Map, byte[], String)} without an authenticated principal. */
    public ScimResponse handle(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
        return handle(method, path, query, headers, body, null);
    }

    /**
     * Answers one request. Every failure, including one of the storage, is a SCIM error response.
     *
     * @param path below the SCIM base, decoded ({@code /Users/42})
     * @param query the raw query string without {@code ?}, or null
     * @param headers the request headers (as {@code com.sun.net.httpserver.Headers}), or null
     * @param body the request body, or null for none
     * @param principal the authenticated user for {@code /Me}, or null
     * @throws ScimException only when the provider is closed
     */
    public ScimResponse handle(String method, String path, String query, Map<String, List<String>> headers, byte[] body, String principal) {
        List<String> flat = new ArrayList<>();
        if (headers != null) {
            headers.forEach((name, values) -> values.forEach(v -> {
                flat.add(name);
                flat.add(v);
            }));
        }
        String[] r;
        lock.readLock().lock();
        try {
            if (handle == 0) {
                throw new ScimException("the provider is closed");
            }
            r = Native.providerHandle(handle, Objects.requireNonNull(method, "method"), Objects.requireNonNull(path, "path"),
                    query, flat.toArray(new String[0]), body, principal, bridge);
        } finally {
            lock.readLock().unlock();
        }
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (int i = 2; i + 1 < r.length; i += 2) {
            out.add(Map.entry(r[i], r[i + 1]));
        }
        return new ScimResponse(Integer.parseInt(r[0]), List.copyOf(out), r[1]);
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            Native.providerFree(handle);
            handle = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
