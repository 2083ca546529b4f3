package org.scimkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.scimkit.Ldif;
import org.scimkit.ScimException;
import org.scimkit.ScimMapper;
import org.scimkit.ScimProvisioner;
import org.scimkit.ScimProvisioner.Outcome;

/** The mapper, LDIF and the provisioner without a target, over the mapping named by {@code scimkit.test.mapping}. */
final class MapperTest {
    static String mapping;
    static final Map<String, List<String>> JANE = new LinkedHashMap<>();

    static {
        JANE.put("UID", List.of("JDoe"));
        JANE.put("givenName", List.of("Jane"));
        JANE.put("sn", List.of("Doe"));
        JANE.put("mail", List.of("Jane.Doe@Example.org"));
        JANE.put("departmentNumber", List.of("physics"));
    }

    /** The mapping file (TOML, `examples/ldap-mapping.toml`) as the JSON the native side reads. */
    static String readMapping() throws Exception {
        String path = System.getProperty("scimkit.test.mapping");
        assertTrue(path != null, "-Dscimkit.test.mapping=examples/ldap-mapping.toml is required");
        return ScimMapper.tomlToJson(Files.readString(Path.of(path)));
    }

    static String config(String mapping, boolean enabled) {
        return "{\"services\": {\"app\": {\"enabled\": " + enabled + ", \"mapping\": " + mapping + "}}}";
    }

    @BeforeAll
    static void load() throws Exception {
        mapping = readMapping();
    }

    @Test
    @DisplayName("mapper maps and reverses")
    void mapperMapsAndReverses() {
        try (var m = new ScimMapper(mapping)) {
            List<String> out = m.toResources(JANE);
            assertEquals(2, out.size(), "a User and one group: " + out);
            assertTrue(out.get(0).contains("\"userName\":\"jdoe\""), out.get(0));
            assertTrue(out.get(1).contains("dir-dept-physics"), out.get(1));
            Map<String, List<String>> back = m.toAttributes(out.get(0));
            assertEquals(List.of("jdoe"), back.get("uid"), back.toString());
            assertEquals(List.of("jane.doe@example.org"), back.get("mail"), back.toString());
        }
    }

    @Test
    @DisplayName("a refused mapping is a ScimException naming the rule")
    void aRefusedMappingNamesTheRule() {
        var e = assertThrows(ScimException.class, () -> new ScimMapper("{\"attributes\": [{\"target\": \"a..b\", \"from\": \"x\"}]}"));
        assertTrue(e.getMessage().contains("attributes[0]"), e.getMessage());
    }

    @Test
    @DisplayName("bad JSON and closed objects throw, never crash")
    void badJsonAndClosedObjectsThrow() {
        var m = new ScimMapper(mapping);
        var bad = assertThrows(ScimException.class, () -> m.toAttributes("[1, 2"));
        assertTrue(bad.getMessage().contains("JSON"), bad.getMessage());
        m.close();
        m.close();
        var closed = assertThrows(ScimException.class, () -> m.toResources(JANE));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    @Test
    @DisplayName("a throwing transport fails the principal with its message")
    void aThrowingTransportFailsThePrincipal() {
        try (var p = new ScimProvisioner(config(mapping, true))) {
            var r = p.provision("app", JANE, req -> {
                throw new java.io.IOException("no route to target");
            });
            assertEquals(Outcome.FAILED, r.outcome(), r.toString());
            assertTrue(r.error().contains("no route to target"), r.error());
        }
    }

    @Test
    @DisplayName("a disabled service is skipped without a request")
    void aDisabledServiceIsSkipped() {
        try (var p = new ScimProvisioner(config(mapping, false))) {
            var r = p.provision("app", JANE, req -> {
                throw new AssertionError("sent " + req);
            });
            assertEquals(Outcome.SKIPPED, r.outcome(), r.toString());
        }
    }

    @Test
    @DisplayName("LDIF errors name the line")
    void ldifErrorsNameTheLine() {
        var e = assertThrows(ScimException.class, () -> Ldif.parse("dn: a\nchangetype: modify\n"));
        assertTrue(e.getMessage().startsWith("line 2"), e.getMessage());
    }
}
