package org.scimkit.test;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.scimkit.ScimProvider;
import org.scimkit.example.MemoryStorage;

/**
 * Requests per second of {@code GET /Users/<id>} through {@link ScimProvider} over the example's in-memory
 * storage, with one thread and with four. Arguments: requests per thread (default 20000), users (default 1000),
 * groups (default 0; group i has user i modulo the users as its member, and a User's `groups` is computed from
 * them on every GET).
 * Not a test: run it by hand (see bindings/java/README.md).
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) throws Exception {
        int perThread = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        int users = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int groups = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        try (var p = new ScimProvider(ProviderTest.CONFIG, new MemoryStorage())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < users; i++) {
                var r = ProviderTest.send(p, "POST", "/Users", null, ProviderTest.user("user" + i));
                assertTrue(r.status() == 201, r.toString());
                ids.add(ProviderTest.field(r.body(), "id"));
            }
            for (int i = 0; i < groups; i++) {
                String group = "{\"displayName\":\"group" + i + "\",\"members\":[{\"value\":\"" + ids.get(i % users) + "\"}]}";
                var r = ProviderTest.send(p, "POST", "/Groups", null, group);
                assertTrue(r.status() == 201, r.toString());
            }
            run(p, ids, 1, Math.min(perThread, 2000));
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (int threads : new int[] {1, 4}) {
                long t0 = System.nanoTime();
                long cpu0 = os.getProcessCpuTime();
                long done = run(p, ids, threads, perThread);
                double s = (System.nanoTime() - t0) / 1e9;
                double cpu = (os.getProcessCpuTime() - cpu0) / 1e3;
                System.out.printf("java %s GET by id, %d thread(s), %d users: %d requests in %.2f s, %.0f requests/s, %.0f us each (%.0f us of CPU each)%n",
                        Runtime.version().feature(), threads, users, done, s, done / s, s * 1e6 / done * threads, cpu / done);
            }
        }
    }

    /** Bounded: `perThread` requests on each of `threads` threads, or until two minutes have passed. */
    private static long run(ScimProvider p, List<String> ids, int threads, int perThread) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Integer>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            futures.add(pool.submit(() -> {
                int n = 0;
                for (; n < perThread && System.nanoTime() < deadline; n++) {
                    var r = p.handle("GET", "/Users/" + ids.get((seed * 7919 + n) % ids.size()), "", null, null);
                    if (r.status() != 200) {
                        throw new AssertionError(r.toString());
                    }
                }
                return n;
            }));
        }
        long done = 0;
        for (var f : futures) {
            done += f.get();
        }
        pool.shutdown();
        return done;
    }
}
