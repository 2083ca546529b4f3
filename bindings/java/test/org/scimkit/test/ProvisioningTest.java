package org.scimkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.scimkit.HttpTransport;
import org.scimkit.Ldif;
import org.scimkit.ScimProvisioner;
import org.scimkit.ScimProvisioner.Outcome;
import org.scimkit.Transport;

/**
 * Three runs against a real target, in order: all principals, again unchanged, one attribute changed. The
 * target is named by {@code scimkit.test.target}, {@code scimkit.test.token} and {@code scimkit.test.ldif}
 * (tests/tests/provision.rs starts a server); without them these tests are reported as aborted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
final class ProvisioningTest {
    private List<Map<String, List<String>>> people;
    private HttpTransport http;
    private ScimProvisioner provisioner;

    /** Counts requests by method, around another transport. */
    static final class Counting implements Transport {
        final Transport inner;
        final Map<String, AtomicInteger> byMethod = new ConcurrentHashMap<>();

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

    @BeforeAll
    void connect() throws Exception {
        String base = System.getProperty("scimkit.test.target");
        assumeTrue(base != null, "no target: -Dscimkit.test.target, -Dscimkit.test.token, -Dscimkit.test.ldif");
        people = Ldif.parse(Files.readString(Path.of(System.getProperty("scimkit.test.ldif")), StandardCharsets.UTF_8));
        http = new HttpTransport(base, System.getProperty("scimkit.test.token"), Duration.ofSeconds(30));
        provisioner = new ScimProvisioner(MapperTest.config(MapperTest.readMapping(), true));
    }

    @AfterAll
    void close() {
        if (provisioner != null) {
            provisioner.close();
        }
    }

    @Test
    @Order(1)
    @DisplayName("first run creates every principal")
    void firstRunCreatesEveryPrincipal() {
        var c = new Counting(http);
        long t0 = System.nanoTime();
        Map<Outcome, Integer> outcomes = run(people, c);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("java run 1: %s, %d writes, %.1f s, %.0f principals/s%n", outcomes, c.writes(), s, people.size() / s);
        assertEquals(people.size(), outcomes.getOrDefault(Outcome.CREATED, 0), outcomes.toString());
    }

    @Test
    @Order(2)
    @DisplayName("second run: all unchanged, no write")
    void secondRunWritesNothing() {
        var c = new Counting(http);
        long t0 = System.nanoTime();
        Map<Outcome, Integer> outcomes = run(people, c);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("java run 2: %s, %s, %.1f s, %.0f principals/s%n", outcomes, c.byMethod, s, people.size() / s);
        assertEquals(people.size(), outcomes.getOrDefault(Outcome.UNCHANGED, 0), outcomes.toString());
        assertEquals(0, c.writes(), "writes: " + c.byMethod);
        assertEquals(people.size(), c.byMethod.get("GET").get(), "one search each: " + c.byMethod);
    }

    @Test
    @Order(3)
    @DisplayName("one changed attribute: exactly one write")
    void oneChangedAttributeIsOneWrite() {
        var changed = new ArrayList<>(people);
        var one = new LinkedHashMap<>(changed.get(7));
        one.put("title", List.of("Changed from Java"));
        changed.set(7, one);
        var c = new Counting(http);
        Map<Outcome, Integer> outcomes = run(changed, c);
        System.out.printf("java run 3: %s, %s%n", outcomes, c.byMethod);
        assertEquals(1, outcomes.getOrDefault(Outcome.UPDATED, 0), outcomes.toString());
        assertEquals(1, c.writes(), "writes: " + c.byMethod);
    }

    private Map<Outcome, Integer> run(List<Map<String, List<String>>> principals, Transport t) {
        Map<Outcome, Integer> outcomes = new java.util.EnumMap<>(Outcome.class);
        for (var person : principals) {
            var r = provisioner.provision("app", person, t);
            outcomes.merge(r.outcome(), 1, Integer::sum);
            if (r.outcome() == Outcome.FAILED && outcomes.get(Outcome.FAILED) <= 3) {
                System.out.println("  failed " + person.get("dn") + ": " + r.error());
            }
        }
        return outcomes;
    }
}
