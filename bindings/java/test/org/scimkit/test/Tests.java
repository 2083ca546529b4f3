package org.scimkit.test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.scimkit.HttpTransport;
import org.scimkit.Ldif;
import org.scimkit.ScimException;
import org.scimkit.ScimMapper;
import org.scimkit.ScimProvisioner;
import org.scimkit.ScimProvisioner.Outcome;
import org.scimkit.Transport;

/**
 * The Java binding's tests, JDK only. Arguments: the mapping (TOML), then optionally a running target's base URL,
 * its token and an LDIF file to provision (three runs: all, again unchanged, one attribute changed). Prints
 * {@code N passed, M failed}; exits 1 on any failure.
 */
public final class Tests {
    private static int passed;
    private static int failed;

    interface Body {
        void run() throws Exception;
    }

    static void test(String name, Body body) {
        try {
            body.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL " + name + ": " + t);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Counts requests by method, around another transport. */
    static final class Counting implements Transport {
        final Transport inner;
        final Map<String, AtomicInteger> byMethod = new java.util.concurrent.ConcurrentHashMap<>();

        Counting(Transport inner) {
            this.inner = inner;
        }

        public Response send(Request r) throws Exception {
            byMethod.computeIfAbsent(r.method(), k -> new AtomicInteger()).incrementAndGet();
            return inner.send(r);
        }

        int writes() {
            return byMethod.entrySet().stream().filter(e -> !e.getKey().equals("GET")).mapToInt(e -> e.getValue().get()).sum();
        }
    }

    static String config(String mapping, boolean enabled) {
        return "{\"services\": {\"app\": {\"enabled\": " + enabled + ", \"mapping\": " + mapping + "}}}";
    }

    public static void main(String[] args) throws Exception {
        String mapping = ScimMapper.tomlToJson(Files.readString(Path.of(args[0])));
        Map<String, List<String>> jane = new LinkedHashMap<>();
        jane.put("UID", List.of("JDoe"));
        jane.put("givenName", List.of("Jane"));
        jane.put("sn", List.of("Doe"));
        jane.put("mail", List.of("Jane.Doe@Example.org"));
        jane.put("departmentNumber", List.of("physics"));

        test("mapper maps and reverses", () -> {
            try (var m = new ScimMapper(mapping)) {
                List<String> out = m.toResources(jane);
                check(out.size() == 2, "a User and one group: " + out);
                check(out.get(0).contains("\"userName\":\"jdoe\""), out.get(0));
                check(out.get(1).contains("dir-dept-physics"), out.get(1));
                Map<String, List<String>> back = m.toAttributes(out.get(0));
                check(back.get("uid").equals(List.of("jdoe")), back.toString());
                check(back.get("mail").equals(List.of("jane.doe@example.org")), back.toString());
            }
        });
        test("a refused mapping is a ScimException naming the rule", () -> {
            try (var m = new ScimMapper("{\"attributes\": [{\"target\": \"a..b\", \"from\": \"x\"}]}")) {
                throw new AssertionError("accepted");
            } catch (ScimException e) {
                check(e.getMessage().contains("attributes[0]"), e.getMessage());
            }
        });
        test("bad JSON and closed objects throw, never crash", () -> {
            var m = new ScimMapper(mapping);
            try {
                m.toAttributes("[1, 2");
                throw new AssertionError("accepted");
            } catch (ScimException e) {
                check(e.getMessage().contains("JSON"), e.getMessage());
            }
            m.close();
            m.close();
            try {
                m.toResources(jane);
                throw new AssertionError("accepted");
            } catch (ScimException e) {
                check(e.getMessage().contains("closed"), e.getMessage());
            }
        });
        test("a throwing transport fails the principal with its message", () -> {
            try (var p = new ScimProvisioner(config(mapping, true))) {
                var r = p.provision("app", jane, req -> {
                    throw new java.io.IOException("no route to target");
                });
                check(r.outcome() == Outcome.FAILED, r.toString());
                check(r.error().contains("no route to target"), r.error());
            }
        });
        test("a disabled service is skipped without a request", () -> {
            try (var p = new ScimProvisioner(config(mapping, false))) {
                var r = p.provision("app", jane, req -> {
                    throw new AssertionError("sent " + req);
                });
                check(r.outcome() == Outcome.SKIPPED, r.toString());
            }
        });
        test("LDIF errors name the line", () -> {
            try {
                Ldif.parse("dn: a\nchangetype: modify\n");
                throw new AssertionError("accepted");
            } catch (ScimException e) {
                check(e.getMessage().startsWith("line 2"), e.getMessage());
            }
        });
        ProviderTests.run();
        if (args.length >= 4) {
            provisionAgainst(mapping, args[1], args[2], Path.of(args[3]));
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    /** The three runs against a real target, each summarised on one line for the calling test. */
    static void provisionAgainst(String mapping, String base, String token, Path ldif) throws Exception {
        var people = Ldif.parse(Files.readString(ldif, StandardCharsets.UTF_8));
        var http = new HttpTransport(base, token, Duration.ofSeconds(30));
        try (var p = new ScimProvisioner(config(mapping, true))) {
            test("first run creates every principal", () -> {
                var c = new Counting(http);
                long t0 = System.nanoTime();
                Map<Outcome, Integer> outcomes = run(p, people, c);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("java run 1: %s, %d writes, %.1f s, %.0f principals/s%n", outcomes, c.writes(), s, people.size() / s);
                check(outcomes.getOrDefault(Outcome.CREATED, 0) == people.size(), outcomes.toString());
            });
            test("second run: all unchanged, no write", () -> {
                var c = new Counting(http);
                long t0 = System.nanoTime();
                Map<Outcome, Integer> outcomes = run(p, people, c);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("java run 2: %s, %s, %.1f s, %.0f principals/s%n", outcomes, c.byMethod, s, people.size() / s);
                check(outcomes.getOrDefault(Outcome.UNCHANGED, 0) == people.size(), outcomes.toString());
                check(c.writes() == 0, "writes: " + c.byMethod);
                check(c.byMethod.get("GET").get() == people.size(), "one search each: " + c.byMethod);
            });
            test("one changed attribute: exactly one write", () -> {
                var changed = new ArrayList<>(people);
                var one = new LinkedHashMap<>(changed.get(7));
                one.put("title", List.of("Changed from Java"));
                changed.set(7, one);
                var c = new Counting(http);
                Map<Outcome, Integer> outcomes = run(p, changed, c);
                System.out.printf("java run 3: %s, %s%n", outcomes, c.byMethod);
                check(outcomes.getOrDefault(Outcome.UPDATED, 0) == 1, outcomes.toString());
                check(c.writes() == 1, "writes: " + c.byMethod);
            });
        }
    }

    static Map<Outcome, Integer> run(ScimProvisioner p, List<Map<String, List<String>>> people, Transport t) {
        Map<Outcome, Integer> outcomes = new java.util.EnumMap<>(Outcome.class);
        for (var person : people) {
            var r = p.provision("app", person, t);
            outcomes.merge(r.outcome(), 1, Integer::sum);
            if (r.outcome() == Outcome.FAILED && outcomes.get(Outcome.FAILED) <= 3) {
                System.out.println("  failed " + person.get("dn") + ": " + r.error());
            }
        }
        return outcomes;
    }
}
