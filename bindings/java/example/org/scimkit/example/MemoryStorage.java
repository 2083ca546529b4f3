package org.scimkit.example;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.scimkit.RowFilter;
import org.scimkit.Storage;
import org.scimkit.StorageException;

/**
 * The example application's storage: its own rows (accounts and teams) in memory, in its own column names.
 * It knows nothing of SCIM beyond the Storage contract. One lock for all: simple, and enough for an example.
 */
public final class MemoryStorage implements Storage {
    /** Per resource type, the columns the application has (see {@link ExampleServer#CONFIG}). */
    private static final Map<String, Set<String>> COLUMNS = Map.of(
            "User", Set.of("login", "first_name", "last_name", "mail", "enabled", "created", "modified", "extra"),
            "Group", Set.of("title", "created", "modified", "extra"));

    private static final class Row {
        Map<String, Object> data;
        long revision = 1;
        final List<Member> members = new ArrayList<>();
        /** The unique values this row holds, by column. */
        Map<String, String> unique = Map.of();
    }

    private final Map<String, Map<String, Row>> tables = new HashMap<>();
    /** Per resource type and unique column: value to id. */
    private final Map<String, Map<String, String>> taken = new HashMap<>();
    private long nextId = 1;

    private Map<String, Row> table(String type) {
        if (!COLUMNS.containsKey(type)) {
            throw StorageException.unsupported();
        }
        return tables.computeIfAbsent(type, t -> new LinkedHashMap<>());
    }

    private Row row(String type, String id) {
        Row r = table(type).get(id);
        if (r == null) {
            throw StorageException.notFound();
        }
        return r;
    }

    private static Resource resource(String id, Row r, boolean withMembers) {
        return new Resource(id, Long.toString(r.revision), new LinkedHashMap<>(r.data), withMembers ? List.copyOf(r.members) : null);
    }

    /** Only the application's own columns are kept. */
    private static Map<String, Object> columns(String type, Map<String, Object> row) {
        Map<String, Object> out = new LinkedHashMap<>();
        row.forEach((k, v) -> {
            if (COLUMNS.get(type).contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Takes the unique values for `id`, releasing the ones it held; a value held by another row is a conflict. */
    private void claim(String type, String id, Row r, List<Unique> unique) {
        Map<String, String> wanted = new HashMap<>();
        for (Unique u : unique) {
            String holder = taken.getOrDefault(type + " " + u.attribute(), Map.of()).get(u.value());
            if (holder != null && !holder.equals(id)) {
                throw StorageException.conflict(u.attribute());
            }
            wanted.put(u.attribute(), u.value());
        }
        r.unique.forEach((col, value) -> taken.get(type + " " + col).remove(value));
        wanted.forEach((col, value) -> taken.computeIfAbsent(type + " " + col, k -> new HashMap<>()).put(value, id));
        r.unique = wanted;
    }

    @Override
    public synchronized Resource get(String type, String id, boolean withMembers) {
        Row r = table(type).get(id);
        return r == null ? null : resource(id, r, withMembers);
    }

    @Override
    public synchronized Resource create(String type, Map<String, Object> row, List<Unique> unique, List<Member> members) {
        String id = Long.toString(nextId);
        Row r = new Row();
        claim(type, id, r, unique);
        nextId++;
        r.data = columns(type, row);
        addMembers(r, members);
        table(type).put(id, r);
        return resource(id, r, false);
    }

    @Override
    public synchronized Resource update(Change c) {
        Row r = row(c.resourceType(), c.id());
        if (c.ifVersion() != null && !c.ifVersion().equals(Long.toString(r.revision))) {
            throw StorageException.preconditionFailed();
        }
        if (c.data() != null) {
            claim(c.resourceType(), c.id(), r, c.unique());
            r.data = columns(c.resourceType(), c.data());
        }
        if (c.clearMembers()) {
            r.members.clear();
        }
        r.members.removeIf(m -> c.removeMembers().contains(m.value()));
        addMembers(r, c.addMembers());
        r.revision++;
        return resource(c.id(), r, false);
    }

    /** Members must exist; adding one again keeps the display the client sent last. */
    private void addMembers(Row group, List<Member> members) {
        for (Member m : members) {
            String type = m.type() == null ? "User" : m.type();
            if (tables.getOrDefault(type, Map.of()).containsKey(m.value())) {
                group.members.removeIf(old -> old.value().equals(m.value()));
                group.members.add(new Member(m.value(), type, m.display()));
            }
        }
    }

    @Override
    public synchronized void delete(String type, String id, String ifVersion) {
        Row r = row(type, id);
        if (ifVersion != null && !ifVersion.equals(Long.toString(r.revision))) {
            throw StorageException.preconditionFailed();
        }
        claim(type, id, r, List.of());
        table(type).remove(id);
        // The groups that lose a member change too.
        for (Row g : table("Group").values()) {
            if (g.members.removeIf(m -> m.value().equals(id))) {
                g.revision++;
            }
        }
    }

    /**
     * The rows the pushed-down filter keeps: exactly the matches when it judged every row (the engine sorts and
     * pages), else candidates for the engine to filter too. Filters on members are judged by the membership
     * lists.
     */
    @Override
    public synchronized Page search(Query q) {
        Map<String, Row> table = table(q.resourceType());
        RowFilter.Membership members = (id, member) -> table.get(id).members.stream().anyMatch(m -> m.value().equals(member));
        RowFilter filter = RowFilter.of(q.filter(), COLUMNS.get(q.resourceType()), q.resourceType().equals("Group") ? members : null);
        List<Resource> items = new ArrayList<>();
        table.forEach((id, r) -> {
            if (filter.mayMatch(id, r.data)) {
                items.add(resource(id, r, !q.withoutMembers() && q.resourceType().equals("Group")));
            }
        });
        return filter.decided() ? Page.filterOnly(items) : Page.candidates(items);
    }

    @Override
    public synchronized List<Member> members(String type, String id, int startIndex, int count) {
        List<Member> all = row(type, id).members;
        int from = Math.min(all.size(), Math.max(0, startIndex - 1));
        return List.copyOf(all.subList(from, (int) Math.min(all.size(), (long) from + Math.max(0, count))));
    }
}
