package org.scimkit.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.scimkit.Hooks;
import org.scimkit.RowFilter;
import org.scimkit.ScimException;
import org.scimkit.ScimProvider;
import org.scimkit.ScimResponse;
import org.scimkit.Storage;
import org.scimkit.StorageException;
import org.scimkit.example.MemoryStorage;

/** ScimProvider over Java storages: the example's, one that records the operations, and failing ones. */
final class ProviderTest {
    static final String CONFIG = "{\"baseUrl\": \"https://app.example/scim/v2\", \"mapping\": {"
            + "\"User\": {\"columns\": {\"userName\": \"login\", \"name.givenName\": \"first_name\","
            + " \"active\": {\"column\": \"enabled\", \"type\": \"boolean\"}}, \"rest\": \"extra\"},"
            + " \"Group\": {\"columns\": {\"displayName\": \"title\"}}}}";
    static final Map<String, List<String>> JSON = Map.of("Content-Type", List.of("application/scim+json"));

    /** The example's storage, recording every operation with its arguments. */
    static class Recording implements Storage {
        final Storage inner = new MemoryStorage();
        final List<Object[]> ops = Collections.synchronizedList(new ArrayList<>());
        volatile RuntimeException failWith;

        private void record(String op, Object arg) {
            ops.add(new Object[] {op, arg});
            if (failWith != null) {
                throw failWith;
            }
        }

        public Resource get(String type, String id, boolean withMembers) throws Exception {
            record("get", id);
            return inner.get(type, id, withMembers);
        }

        public Resource create(String type, Map<String, Object> row, List<Unique> unique, List<Member> members) throws Exception {
            record("create", row);
            return inner.create(type, row, unique, members);
        }

        public Resource update(Change change) throws Exception {
            record("update", change);
            return inner.update(change);
        }

        public void delete(String type, String id, String ifVersion) throws Exception {
            record("delete", id);
            inner.delete(type, id, ifVersion);
        }

        public Page search(Query query) throws Exception {
            record("search", query);
            return inner.search(query);
        }

        public List<Member> members(String type, String id, int startIndex, int count) throws Exception {
            record("members", id);
            return inner.members(type, id, startIndex, count);
        }

        Object last(String op) {
            return last(op, arg -> true);
        }

        Object last(String op, java.util.function.Predicate<Object> which) {
            synchronized (ops) {
                for (int i = ops.size() - 1; i >= 0; i--) {
                    if (ops.get(i)[0].equals(op) && which.test(ops.get(i)[1])) {
                        return ops.get(i)[1];
                    }
                }
            }
            throw new AssertionError("no " + op + " reached the storage");
        }
    }

    static ScimResponse send(ScimProvider p, String method, String path, String query, String body) {
        return p.handle(method, path, query, JSON, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    static String user(String userName) {
        return "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" + userName
                + "\",\"name\":{\"givenName\":\"Barbara\"},\"active\":true,\"title\":\"Tour guide\"}";
    }

    /** The value of `"name":"…"` or `"name":n` in a JSON text (enough for ids and counts). */
    static String field(String json, String name) {
        int at = json.indexOf("\"" + name + "\":");
        assertTrue(at >= 0, name + " in " + json);
        int from = at + name.length() + 3;
        if (json.charAt(from) == '"') {
            return json.substring(from + 1, json.indexOf('"', from + 1));
        }
        int to = from;
        while (to < json.length() && Character.isDigit(json.charAt(to))) {
            to++;
        }
        return json.substring(from, to);
    }

    @Test
    @DisplayName("provider: hooks veto a create (their 400 reaches the client) and see a PATCH's before and after")
    @SuppressWarnings("unchecked")
    void hooksVetoACreateAndSeeThePatchBeforeAndAfter() throws Exception {
        List<Object[]> changed = Collections.synchronizedList(new ArrayList<>());
        Hooks hooks = new Hooks() {
            @Override
            public Verdict check(Map<String, Object> change) {
                var after = (Map<String, Object>) change.get("after");
                if (after != null && "admin".equals(after.get("userName"))) {
                    return Verdict.refuse(400, "invalidValue", "the userName admin is reserved");
                }
                return Verdict.allow();
            }

            @Override
            public void changed(Map<String, Object> change, String version) {
                changed.add(new Object[] {change, version});
            }
        };
        try (var p = new ScimProvider(CONFIG, new MemoryStorage(), hooks)) {
            ScimResponse refused = send(p, "POST", "/Users", null, user("admin"));
            assertTrue(refused.status() == 400 && refused.body().contains("the userName admin is reserved")
                    && refused.body().contains("invalidValue"), refused.toString());
            assertTrue(send(p, "GET", "/Users", "", null).body().contains("\"totalResults\":0"), "nothing written");
            assertTrue(changed.isEmpty(), "no change reported for a refused write");
            String id = field(send(p, "POST", "/Users", null, user("bjensen")).body(), "id");
            ScimResponse patch = send(p, "PATCH", "/Users/" + id, null,
                    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"Babs\"}]}");
            assertTrue(patch.status() == 200, patch.toString());
            assertTrue(changed.size() == 2, "a create and a patch: " + changed.size());
            var change = (Map<String, Object>) changed.get(1)[0];
            var before = (Map<String, Object>) change.get("before");
            var after = (Map<String, Object>) change.get("after");
            assertTrue(List.of("patch").equals(change.get("operations")), change.toString());
            assertTrue(List.of("name.givenName").equals(change.get("paths")), change.toString());
            assertTrue("Barbara".equals(((Map<String, Object>) before.get("name")).get("givenName")), before.toString());
            assertTrue("Babs".equals(((Map<String, Object>) after.get("name")).get("givenName")), after.toString());
            assertTrue(id.equals(change.get("id")) && !"".equals(changed.get(1)[1]), change.toString());
        }
    }

    @Test
    @DisplayName("provider: create, read, replace, patch and delete through a Java storage")
    void createReadReplacePatchAndDeleteThroughAJavaStorage() throws Exception {
        var storage = new Recording();
        try (var p = new ScimProvider(CONFIG, storage)) {
            ScimResponse created = send(p, "POST", "/Users", null, user("bjensen"));
            assertTrue(created.status() == 201, created.toString());
            @SuppressWarnings("unchecked")
            var row = (Map<String, Object>) storage.last("create");
            assertTrue("bjensen".equals(row.get("login")) && "Barbara".equals(row.get("first_name")) && Boolean.TRUE.equals(row.get("enabled")), row.toString());
            assertTrue(String.valueOf(row.get("extra")).contains("Tour guide"), "the rest column: " + row);
            String id = field(created.body(), "id");
            assertTrue(created.header("location").endsWith("/Users/" + id), created.toString());
            ScimResponse got = send(p, "GET", "/Users/" + id, "", null);
            assertTrue(got.status() == 200 && got.body().contains("\"title\":\"Tour guide\""), got.toString());
            assertTrue(got.header("ETag") != null, got.toString());
            ScimResponse put = send(p, "PUT", "/Users/" + id, null, user("bjensen2"));
            assertTrue(put.status() == 200 && put.body().contains("bjensen2"), put.toString());
            ScimResponse patch = send(p, "PATCH", "/Users/" + id, null,
                    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]}");
            assertTrue(patch.status() == 200 && patch.body().contains("\"active\":false"), patch.toString());
            assertTrue(!put.header("ETag").equals(patch.header("ETag")), "a write changes the version");
            ScimResponse taken = send(p, "POST", "/Users", null, user("BJensen2"));
            assertTrue(taken.status() == 409 && taken.body().contains("uniqueness"), taken.toString());
            assertTrue(send(p, "DELETE", "/Users/" + id, null, null).status() == 204, "delete");
            ScimResponse gone = send(p, "GET", "/Users/" + id, null, null);
            assertTrue(gone.status() == 404 && gone.body().contains("urn:ietf:params:scim:api:messages:2.0:Error"), gone.toString());
        }
    }

    @Test
    @DisplayName("provider: quotes, control characters and text beyond the BMP round-trip through the storage")
    void quotesControlCharactersAndTextBeyondTheBmpRoundTripThroughTheStorage() throws Exception {
        var storage = new Recording();
        try (var p = new ScimProvider(CONFIG, storage)) {
            String given = "Zo\u00eb \\\"Q\\\" \\n\\t \\u0001 \ud83d\ude00 \u4e2d";
            ScimResponse created = send(p, "POST", "/Users", null, user("zoe").replace("Barbara", given));
            assertTrue(created.status() == 201, created.toString());
            @SuppressWarnings("unchecked")
            var row = (Map<String, Object>) storage.last("create");
            assertTrue("Zo\u00eb \"Q\" \n\t \u0001 \ud83d\ude00 \u4e2d".equals(row.get("first_name")), String.valueOf(row.get("first_name")));
            ScimResponse got = send(p, "GET", "/Users/" + field(created.body(), "id"), null, null);
            assertTrue(got.body().contains("\ud83d\ude00 \u4e2d") && got.body().contains("\\\"Q\\\""), got.body());
        }
    }

    @Test
    @DisplayName("provider: a filter reaches the storage as a tree in its column names")
    void aFilterReachesTheStorageAsATreeInItsColumnNames() throws Exception {
        var storage = new Recording();
        try (var p = new ScimProvider(CONFIG, storage)) {
            for (String name : List.of("alice", "bob", "carol")) {
                assertTrue(send(p, "POST", "/Users", null, user(name)).status() == 201, name);
            }
            ScimResponse list = send(p, "GET", "/Users", "filter=userName%20eq%20%22Bob%22%20and%20active%20eq%20true", null);
            assertTrue(list.status() == 200 && field(list.body(), "totalResults").equals("1") && list.body().contains("\"userName\":\"bob\""), list.toString());
            // The User search; rendering a User's computed `groups` searches Groups after it.
            var q = (Storage.Query) storage.last("search", a -> ((Storage.Query) a).resourceType().equals("User"));
            @SuppressWarnings("unchecked")
            var args = (List<Map<String, Object>>) q.filter().get("args");
            assertTrue("and".equals(q.filter().get("op")) && args.size() == 2, q.toString());
            assertTrue(args.get(0).get("path").equals("login") && args.get(0).get("value").equals("Bob") && args.get(0).get("op").equals("eq"), args.toString());
            assertTrue(args.get(1).get("path").equals("enabled") && Boolean.TRUE.equals(args.get(1).get("value")), args.toString());
            ScimResponse none = send(p, "GET", "/Users", "filter=userName%20sw%20%22z%22", null);
            assertTrue(field(none.body(), "totalResults").equals("0"), none.toString());
        }
    }

    @Test
    @DisplayName("provider: the example's filter push-down keeps exactly the matches the engine finds alone")
    void theExamplesFilterPushDownKeepsExactlyTheMatchesTheEngineFindsAlone() throws Exception {
        // The same rows twice: narrowed by RowFilter, and handed over unfiltered for the engine to filter.
        var unfiltered = new Recording() {
            @Override
            public Page search(Query q) throws Exception {
                return Page.candidates(inner.search(new Query(q.resourceType(), null, q.sort(), q.startIndex(), q.count(), q.withoutMembers())).items());
            }
        };
        try (var narrowed = new ScimProvider(CONFIG, new MemoryStorage()); var plain = new ScimProvider(CONFIG, unfiltered)) {
            Map<String, Integer> matched = new java.util.TreeMap<>();
            String[] names = {"alice", "Bob", "carol", "dave", "Ève", "frank"};
            for (int i = 0; i < names.length; i++) {
                String body = i % 2 == 0 ? user(names[i]) : user(names[i]).replace("\"active\":true", "\"active\":false")
                        .replace(",\"name\":{\"givenName\":\"Barbara\"}", "");
                for (var p : List.of(narrowed, plain)) {
                    assertTrue(send(p, "POST", "/Users", null, body).status() == 201, body);
                }
            }
            for (String f : List.of("userName eq \"bob\"", "userName ne \"bob\"", "userName sw \"C\"", "userName co \"a\"",
                    "userName ew \"e\"", "userName eq \"ève\"", "active eq true", "active eq false", "not (active eq true)",
                    "name.givenName pr", "not (name.givenName pr)", "title eq \"Tour guide\"", "name.givenName eq \"barbara\" or userName eq \"bob\"",
                    "userName gt \"c\"", "not (userName eq \"alice\" and active eq true)", "emails[value co \"x\"] or active eq false",
                    "name.givenName eq null", "not (name.givenName eq null)", "userName ne \"Bob\" and active eq false")) {
                String q = "filter=" + java.net.URLEncoder.encode(f, StandardCharsets.UTF_8).replace("+", "%20") + "&attributes=userName";
                ScimResponse a = send(narrowed, "GET", "/Users", q, null);
                ScimResponse b = send(plain, "GET", "/Users", q, null);
                assertTrue(a.status() == 200 && a.body().equals(b.body()), f + ":\n" + a.body() + "\n" + b.body());
                matched.merge(field(a.body(), "totalResults"), 1, Integer::sum);
            }
            assertTrue(matched.keySet().size() > 3, "the filters select different rows: " + matched);
        }
    }

    @Test
    @DisplayName("provider: a user's groups are one membership search per level the example answers exactly")
    void aUsersGroupsAreOneMembershipSearchPerLevelTheExampleAnswersExactly() throws Exception {
        var pages = Collections.synchronizedList(new ArrayList<Storage.Page>());
        var storage = new Recording() {
            @Override
            public Page search(Query q) throws Exception {
                Page page = super.search(q);
                pages.add(page);
                return page;
            }
        };
        try (var p = new ScimProvider(CONFIG, storage)) {
            String id = field(send(p, "POST", "/Users", null, user("gina")).body(), "id");
            String other = field(send(p, "POST", "/Users", null, user("hal")).body(), "id");
            String member = "{\"displayName\":\"%s\",\"members\":[{\"value\":\"%s\"}]}";
            assertTrue(send(p, "POST", "/Groups", null, member.formatted("Admins", id)).status() == 201, "Admins");
            assertTrue(send(p, "POST", "/Groups", null, member.formatted("Others", other)).status() == 201, "Others");
            storage.ops.clear();
            pages.clear();
            ScimResponse got = send(p, "GET", "/Users/" + id, null, null);
            assertTrue(got.status() == 200 && got.body().contains("\"display\":\"Admins\"") && !got.body().contains("Others"), got.toString());
            // One search per level: the user's groups, then (groups may nest) the groups holding those, none here.
            var searches = storage.ops.stream().filter(o -> o[0].equals("search")).map(o -> (Storage.Query) o[1]).toList();
            assertTrue(searches.size() == 2, "two searches: " + pages);
            var q = searches.get(0);
            assertTrue(q.resourceType().equals("Group") && q.withoutMembers(), q.toString());
            assertTrue(RowFilter.MEMBER_PATH.equals(q.filter().get("path")) && id.equals(q.filter().get("value")), q.toString());
            assertTrue(pages.get(0).applied() == Storage.Applied.FILTER_ONLY && pages.get(0).items().size() == 1, pages.toString());
            String admins = pages.get(0).items().get(0).id();
            var up = searches.get(1);
            assertTrue(RowFilter.MEMBER_PATH.equals(up.filter().get("path")) && admins.equals(up.filter().get("value")), up.toString());
            assertTrue(pages.get(1).items().isEmpty(), pages.toString());
            // An `or` of members, as for a page of users, and a client's filter on a group's members.
            ScimResponse both = send(p, "GET", "/Groups", "filter=" + java.net.URLEncoder.encode(
                    "members.value eq \"" + id + "\" or members.value eq \"" + other + "\"", StandardCharsets.UTF_8).replace("+", "%20"), null);
            assertTrue(field(both.body(), "totalResults").equals("2"), both.toString());
            assertTrue(pages.get(pages.size() - 1).applied() == Storage.Applied.FILTER_ONLY, pages.toString());
        }
    }

    @Test
    @DisplayName("provider: member adds and removes by id reach the storage as one unconditional delta")
    void memberAddsAndRemovesByIdReachTheStorageAsOneUnconditionalDelta() throws Exception {
        var storage = new Recording();
        try (var p = new ScimProvider(CONFIG, storage)) {
            String a = field(send(p, "POST", "/Users", null, user("ann")).body(), "id");
            String b = field(send(p, "POST", "/Users", null, user("bob")).body(), "id");
            String gid = field(send(p, "POST", "/Groups", null, "{\"displayName\":\"Staff\"}").body(), "id");
            storage.ops.clear();
            String patchOp = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":%s}";
            // What Entra ID sends, then Okta's remove-by-filter plus add.
            String entra = "[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"$ref\":null,\"value\":\"" + a + "\"}]}]";
            ScimResponse added = send(p, "PATCH", "/Groups/" + gid, null, patchOp.formatted(entra));
            assertTrue(added.status() == 204 && added.body().isEmpty(), added.toString());
            var first = (Storage.Change) storage.last("update");
            assertTrue(first.data() == null && first.ifVersion() == null && first.addMembers().size() == 1
                    && first.addMembers().get(0).value().equals(a), first.toString());
            String okta = "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"" + a + "\\\"]\"},"
                    + "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"" + b + "\"}]}]";
            assertTrue(send(p, "PATCH", "/Groups/" + gid, null, patchOp.formatted(okta)).status() == 204, "okta");
            var second = (Storage.Change) storage.last("update");
            assertTrue(second.data() == null && second.ifVersion() == null && second.removeMembers().equals(List.of(a)), second.toString());
            // The group is never read; each added member is looked up once, to give it its type.
            var reads = storage.ops.stream().filter(o -> o[0].equals("get")).map(o -> (String) o[1]).toList();
            assertEquals(List.of(a, b), reads, "only the added members are read");
            ScimResponse got = send(p, "GET", "/Groups/" + gid, null, null);
            assertTrue(got.body().contains("\"value\":\"" + b + "\"") && !got.body().contains("\"value\":\"" + a + "\""), got.toString());
            assertTrue(got.body().contains("\"displayName\":\"Staff\""), "the body is left as it was: " + got);
        }
    }

    @Test
    @DisplayName("provider: a throwing storage is a SCIM 500 or 503, and the next request is served")
    void aThrowingStorageIsAScim500Or503AndTheNextRequestIsServed() throws Exception {
        var storage = new Recording();
        try (var p = new ScimProvider(CONFIG, storage)) {
            String id = field(send(p, "POST", "/Users", null, user("dave")).body(), "id");
            storage.failWith = new IllegalStateException("the disk is on fire");
            ScimResponse failed = send(p, "GET", "/Users/" + id, null, null);
            assertTrue(failed.status() == 500 && failed.body().contains("urn:ietf:params:scim:api:messages:2.0:Error"), failed.toString());
            assertTrue(!failed.body().contains("on fire"), "an internal failure is not shown to clients: " + failed.body());
            storage.failWith = StorageException.unavailable("the database restarts");
            ScimResponse unavailable = send(p, "GET", "/Users", null, null);
            assertTrue(unavailable.status() == 503 && unavailable.body().contains("\"status\":\"503\""), unavailable.toString());
            storage.failWith = new RuntimeException(new StackOverflowError());
            assertTrue(send(p, "POST", "/Users", null, user("erin")).status() == 500, "a create that throws");
            storage.failWith = null;
            ScimResponse again = send(p, "GET", "/Users/" + id, null, null);
            assertTrue(again.status() == 200 && again.body().contains("dave"), again.toString());
        }
    }

    @Test
    @DisplayName("provider: a storage answering nonsense is a SCIM 500")
    void aStorageAnsweringNonsenseIsAScim500() throws Exception {
        var storage = new Recording() {
            @Override
            public Resource get(String type, String id, boolean withMembers) {
                return new Resource(null, null, Map.of(), null);
            }
        };
        try (var p = new ScimProvider(CONFIG, storage)) {
            ScimResponse r = send(p, "GET", "/Users/1", null, null);
            assertTrue(r.status() == 500 && r.body().contains("urn:ietf:params:scim:api:messages:2.0:Error"), r.toString());
        }
    }

    @Test
    @DisplayName("provider: concurrent requests from eight threads")
    void concurrentRequestsFromEightThreads() throws Exception {
        var storage = new MemoryStorage();
        try (var p = new ScimProvider(CONFIG, storage)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 25; i++) {
                        ScimResponse c = send(p, "POST", "/Users", null, user("u" + thread + "-" + i));
                        ScimResponse g = send(p, "GET", "/Users/" + field(c.body(), "id"), null, null);
                        ok += c.status() == 201 && g.status() == 200 && g.body().contains("u" + thread + "-" + i) ? 1 : 0;
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (var f : done) {
                ok += f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(ok == 200, ok + " of 200 round trips");
            ScimResponse all = send(p, "GET", "/Users", "count=1", null);
            assertTrue(field(all.body(), "totalResults").equals("200"), all.toString());
        }
    }

    @Test
    @DisplayName("example server: bearer token, SCIM below its base only, CRUD over HTTP")
    void exampleServerBearerTokenScimBelowItsBaseOnlyCrudOverHttp() throws Exception {
        var server = org.scimkit.example.ExampleServer.start(0, "secret");
        try {
            var http = java.net.http.HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            java.util.function.BiFunction<String, String, java.net.http.HttpRequest.Builder> req = (path, token) -> {
                var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path));
                return token == null ? b : b.header("Authorization", "Bearer " + token);
            };
            var text = java.net.http.HttpResponse.BodyHandlers.ofString();
            var denied = http.send(req.apply("/scim/v2/Users", "wrong").build(), text);
            assertTrue(denied.statusCode() == 401 && denied.headers().firstValue("WWW-Authenticate").orElse("").equals("Bearer"), denied.toString());
            assertTrue(http.send(req.apply("/scim/v2/Users", null).build(), text).statusCode() == 401, "no token");
            assertTrue(http.send(req.apply("/other", "secret").build(), text).statusCode() == 404, "outside the base");
            var created = http.send(req.apply("/scim/v2/Users", "secret").header("Content-Type", "application/scim+json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(user("http-user"))).build(), text);
            assertTrue(created.statusCode() == 201, created.body());
            String location = created.headers().firstValue("Location").orElse("");
            assertTrue(location.startsWith(base + "/scim/v2/Users/"), location);
            var got = http.send(req.apply(location.substring(base.length()), "secret").build(), text);
            assertTrue(got.statusCode() == 200 && got.body().contains("http-user"), got.body());
            var gone = http.send(req.apply(location.substring(base.length()), "secret").DELETE().build(), text);
            assertTrue(gone.statusCode() == 204 && gone.body().isEmpty(), gone.toString());
            var config = http.send(req.apply("/scim/v2/ServiceProviderConfig", "secret").build(), text);
            assertTrue(config.statusCode() == 200 && config.body().contains("\"patch\""), config.body());
        } finally {
            server.stop(0);
        }
    }

    @Test
    @DisplayName("provider: a refused configuration and a closed provider throw, never crash")
    void aRefusedConfigurationAndAClosedProviderThrowNeverCrash() throws Exception {
        try (var p = new ScimProvider("{\"baseUrl\": \"x\", \"bogus\": 1}", new MemoryStorage())) {
            throw new AssertionError("accepted");
        } catch (ScimException e) {
            assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        }
        var p = new ScimProvider(CONFIG, new MemoryStorage());
        p.close();
        p.close();
        try {
            send(p, "GET", "/Users", null, null);
            throw new AssertionError("accepted");
        } catch (ScimException e) {
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }
}
