package org.scimkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.scimkit.Storage.Change;
import org.scimkit.Storage.Member;
import org.scimkit.Storage.Page;
import org.scimkit.Storage.Principal;
import org.scimkit.Storage.Query;
import org.scimkit.Storage.Resource;
import org.scimkit.Storage.Sort;
import org.scimkit.Storage.Unique;

/**
 * The storage callback, called by the native side with the operation and its arguments as JSON, answering
 * JSON (include/scimkit.h). Never throws, so that no Java exception reaches Rust: a failure is an error reply.
 */
final class StorageBridge {
    private static final System.Logger LOG = System.getLogger("org.scimkit");

    private final Storage storage;
    private final Hooks hooks;

    StorageBridge(Storage storage, Hooks hooks) {
        this.storage = storage;
        this.hooks = hooks;
    }

    String answer(String op, String args) {
        Object reply;
        try {
            reply = dispatch(op, object(Json.parse(args)));
        } catch (StorageException e) {
            reply = Map.of("error", e.kind(), "detail", e.detail());
        } catch (Throwable t) {
            String what = t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
            LOG.log(System.Logger.Level.WARNING, "scimkit storage " + op + ": " + what, t);
            reply = Map.of("error", "other", "detail", what);
        }
        try {
            return Json.write(reply);
        } catch (Throwable t) {
            return "{\"error\":\"other\",\"detail\":\"the storage reply could not be written\"}";
        }
    }

    private Object dispatch(String op, Map<String, Object> a) throws Exception {
        String type = text(a.get("resourceType"));
        return switch (op) {
            case "get" -> resource(storage.get(type, text(a.get("id")), bool(a.get("withMembers"))));
            case "create" -> resource(storage.create(type, object(a.get("data")), unique(a.get("unique")), members(a.get("members"))));
            case "update" -> resource(storage.update(new Change(type, text(a.get("id")),
                    a.get("data") == null ? null : object(a.get("data")), unique(a.get("unique")), bool(a.get("clearMembers")),
                    list(a.get("removeMembers")).stream().map(StorageBridge::text).toList(), members(a.get("addMembers")),
                    text(a.get("ifVersion")))));
            case "delete" -> {
                storage.delete(type, text(a.get("id")), text(a.get("ifVersion")));
                yield null;
            }
            case "search" -> page(storage.search(query(type, a)));
            case "members" -> memberList(storage.members(type, text(a.get("id")), integer(a.get("startIndex")), integer(a.get("count"))));
            case "resolve-principal" -> {
                Principal p = storage.resolvePrincipal(text(a.get("principal")));
                yield p == null ? null : List.of(p.resourceType(), p.id());
            }
            case "event-check" -> {
                Hooks.Verdict v = hooks.check(a);
                yield v == null ? null : v.reply;
            }
            case "event-changed" -> {
                hooks.changed(a, text(a.get("version")));
                yield null;
            }
            default -> throw StorageException.unsupported();
        };
    }

    private static Query query(String type, Map<String, Object> a) {
        Sort sort = null;
        if (a.get("sort") != null) {
            Map<String, Object> s = object(a.get("sort"));
            sort = new Sort(text(s.get("path")), bool(s.get("descending")), bool(s.get("caseExact")));
        }
        Map<String, Object> filter = a.get("filter") == null ? null : object(a.get("filter"));
        return new Query(type, filter, sort, integer(a.get("startIndex")), integer(a.get("count")), bool(a.get("withoutMembers")));
    }

    private static List<Unique> unique(Object v) {
        List<Unique> out = new ArrayList<>();
        for (Object o : list(v)) {
            Map<String, Object> u = object(o);
            out.add(new Unique(text(u.get("attribute")), text(u.get("value"))));
        }
        return out;
    }

    private static List<Member> members(Object v) {
        List<Member> out = new ArrayList<>();
        for (Object o : list(v)) {
            Map<String, Object> m = object(o);
            out.add(new Member(text(m.get("value")), text(m.get("type")), text(m.get("display"))));
        }
        return out;
    }

    private static Map<String, Object> resource(Resource r) {
        if (r == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", r.id());
        out.put("version", r.version());
        out.put("data", r.data());
        out.put("members", r.members() == null ? null : memberList(r.members()));
        return out;
    }

    private static List<Object> memberList(List<Member> ms) {
        List<Object> out = new ArrayList<>();
        for (Member m : ms) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("value", m.value());
            o.put("type", m.type());
            o.put("display", m.display());
            out.add(o);
        }
        return out;
    }

    private static Map<String, Object> page(Page p) {
        List<Object> items = new ArrayList<>();
        for (Resource r : p.items()) {
            items.add(resource(r));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("items", items);
        out.put("total", p.total());
        out.put("applied", switch (p.applied()) {
            case EVERYTHING -> "everything";
            case FILTER_ONLY -> "filter-only";
            case NOTHING -> "nothing";
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v) {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("expected an object from the engine");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object v) {
        return v == null ? List.of() : v instanceof List<?> l ? (List<Object>) l : List.of(v);
    }

    private static String text(Object v) {
        return v == null ? null : v.toString();
    }

    private static boolean bool(Object v) {
        return Boolean.TRUE.equals(v);
    }

    private static int integer(Object v) {
        return v instanceof Number n ? (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n.longValue())) : 0;
    }
}
