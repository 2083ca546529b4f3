package org.scimkit;

import java.util.List;
import java.util.Map;

/**
 * What an application implements for {@link ScimProvider}: rows in, rows out, in its own column names (the
 * configuration's {@code mapping}). No SCIM parsing, filtering or PATCH logic belongs here; the engine does all
 * of it. The contract of each operation is that of the storage callback in bindings/native/include/scimkit.h.
 *
 * <p>Throw {@link StorageException} for the expected failures (not found, a taken unique value, a version
 * mismatch, a temporary outage); any other exception answers a SCIM 500 and is logged. Methods are called from
 * every thread that calls {@link ScimProvider#handle}, at once: an implementation must be thread-safe.
 */
public interface Storage {
    /**
     * A stored resource. {@code data} is the row as the engine wrote it (its values are {@code String},
     * {@code Long}, {@code BigDecimal}, {@code Boolean}, null, or maps and lists without a mapping);
     * {@code members} is null unless asked for. {@code version} changes on every write, membership included.
     */
    record Resource(String id, String version, Map<String, Object> data, List<Member> members) {}

    /** A group member; {@code type} ("User" or "Group") and {@code display} may be null. */
    record Member(String value, String type, String display) {}

    /** A value to keep unique per resource type: {@code attribute} is the column, {@code value} normalised. */
    record Unique(String attribute, String value) {}

    /**
     * A write. {@code data} null leaves the row (a membership-only change).
     * {@code ifVersion} set and not the stored version: {@link StorageException#preconditionFailed()}.
     */
    record Change(String resourceType, String id, Map<String, Object> data, List<Unique> unique, boolean clearMembers,
                  List<String> removeMembers, List<Member> addMembers, String ifVersion) {}

    record Sort(String path, boolean descending, boolean caseExact) {}

    /**
     * A search. {@code filter} is the pushed-down filter as a tree of maps (null: everything), its paths the
     * column names: {@code {op: and|or, args}}, {@code {op: not, arg}}, {@code {op: pr, path}},
     * {@code {op: eq|ne|co|sw|ew|gt|ge|lt|le, path, value, type, caseExact}}, {@code {op: match, path, arg}}.
     * {@code startIndex} is 1-based. One path is reserved: {@code members.value} in {@code members.value eq "id"}
     * asks for the groups having that member (how the engine finds a User's groups); answer it from the
     * membership relation ({@link RowFilter} does, given a {@link RowFilter.Membership}), or treat it as no
     * constraint and answer {@link Page#candidates}.
     */
    record Query(String resourceType, Map<String, Object> filter, Sort sort, int startIndex, int count, boolean withoutMembers) {}

    /** What the storage did of a query; the engine does the rest. */
    enum Applied {
        /** filter, sort and paging: {@code total} is required */
        EVERYTHING,
        /** all the matches, in any order */
        FILTER_ONLY,
        /** a superset of the matches */
        NOTHING
    }

    record Page(List<Resource> items, Long total, Applied applied) {
        public static Page everything(List<Resource> items, long total) {
            return new Page(items, total, Applied.EVERYTHING);
        }

        public static Page filterOnly(List<Resource> items) {
            return new Page(items, null, Applied.FILTER_ONLY);
        }

        public static Page candidates(List<Resource> items) {
            return new Page(items, null, Applied.NOTHING);
        }
    }

    /** The principal's own resource, for {@code /Me}. */
    record Principal(String resourceType, String id) {}

    /** @return the resource, or null when it does not exist */
    Resource get(String resourceType, String id, boolean withMembers) throws Exception;

    /** @return the new resource with its id ({@code members} null) */
    Resource create(String resourceType, Map<String, Object> row, List<Unique> unique, List<Member> members) throws Exception;

    /** @return the resource as written ({@code members} null) */
    Resource update(Change change) throws Exception;

    /** Also removes {@code id} from every member list. */
    void delete(String resourceType, String id, String ifVersion) throws Exception;

    Page search(Query query) throws Exception;

    /** Up to {@code count} members of a group from {@code startIndex} (1-based). */
    List<Member> members(String resourceType, String id, int startIndex, int count) throws Exception;

    /** @return the resource of an authenticated principal, or null; by default {@code /Me} is not supported */
    default Principal resolvePrincipal(String principal) throws Exception {
        throw StorageException.unsupported();
    }
}
