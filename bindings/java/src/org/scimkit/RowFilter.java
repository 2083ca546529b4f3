package org.scimkit;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The engine's pushed-down filter ({@link Storage.Query#filter()}) evaluated against rows held in memory, for a
 * storage without a query language of its own (a database storage translates the tree into its query instead).
 *
 * <p>It narrows, never decides: a part it cannot judge with certainty (a column not listed, an element match,
 * text beyond ASCII, an ordering of text or dates) counts as a possible match, so that the rows it keeps are a
 * superset of the matches. Answer them with {@link Storage.Page#candidates}: the engine filters, sorts and
 * pages them exactly. When every row was judged with certainty ({@link #decided()}), the rows kept are exactly
 * the matches and {@link Storage.Page#filterOnly} may answer them.
 *
 * <p>Membership is no column: {@code members.value eq "id"} ({@link #MEMBER_PATH}; how the engine finds a
 * User's groups, and what clients send) arrives under that reserved path, and is judged by the storage's
 * {@link Membership} when given one, else left to the engine. One instance serves one search (not shared
 * between threads).
 */
public final class RowFilter {
    /** The reserved path of a membership comparison. */
    public static final String MEMBER_PATH = "members.value";

    /** The storage's membership relation, for the reserved path. */
    @FunctionalInterface
    public interface Membership {
        /** Whether the row {@code id} (a group) has the member {@code memberId}, ids compared exactly. */
        boolean has(String id, String memberId);
    }

    /** A judgement in three-valued logic: unknown parts stay possible through and, or and not. */
    private enum Truth {
        YES, NO, UNKNOWN;

        Truth not() {
            return this == YES ? NO : this == NO ? YES : UNKNOWN;
        }
    }

    private final Map<String, Object> filter;
    private final Set<String> columns;
    private final Membership members;
    private boolean decided = true;

    private RowFilter(Map<String, Object> filter, Set<String> columns, Membership members) {
        this.filter = filter;
        this.columns = columns;
        this.members = members;
    }

    /**
     * @param filter the query's filter (null: every row)
     * @param columns the storage's columns: a path outside them is judged by the engine alone
     */
    public static RowFilter of(Map<String, Object> filter, Set<String> columns) {
        return of(filter, columns, null);
    }

    /** @param members the membership relation of the searched type (null: membership is left to the engine) */
    public static RowFilter of(Map<String, Object> filter, Set<String> columns, Membership members) {
        return new RowFilter(filter, Set.copyOf(columns), members);
    }

    /** Whether the row may match: false only when it certainly does not. */
    public boolean mayMatch(Map<String, Object> row) {
        return mayMatch(null, row);
    }

    /** Whether the row with this id may match; the id lets {@link Membership} judge the reserved path. */
    public boolean mayMatch(String id, Map<String, Object> row) {
        Truth t = filter == null ? Truth.YES : eval(filter, id, row, 0);
        decided &= t != Truth.UNKNOWN;
        return t != Truth.NO;
    }

    /** Whether every row so far was judged with certainty: then the rows that may match are the matches. */
    public boolean decided() {
        return decided;
    }

    private Truth eval(Map<?, ?> n, String id, Map<String, Object> row, int depth) {
        if (depth > 64) {
            return Truth.UNKNOWN;
        }
        Object op = n.get("op");
        if ("and".equals(op) || "or".equals(op)) {
            boolean and = "and".equals(op);
            Truth out = and ? Truth.YES : Truth.NO;
            for (Object arg : n.get("args") instanceof List<?> l ? l : List.of()) {
                Truth t = arg instanceof Map<?, ?> m ? eval(m, id, row, depth + 1) : Truth.UNKNOWN;
                if (t == (and ? Truth.NO : Truth.YES)) {
                    return t;
                }
                if (t == Truth.UNKNOWN) {
                    out = Truth.UNKNOWN;
                }
            }
            return out;
        }
        if ("not".equals(op)) {
            return n.get("arg") instanceof Map<?, ?> m ? eval(m, id, row, depth + 1).not() : Truth.UNKNOWN;
        }
        Object path = n.get("path");
        if (MEMBER_PATH.equals(path)) {
            return membership(op, n.get("type"), n.get("value"), Boolean.TRUE.equals(n.get("caseExact")), id);
        }
        if (!(path instanceof String column) || !columns.contains(column)) {
            return Truth.UNKNOWN;
        }
        Object v = row.get(column);
        if ("pr".equals(op)) {
            return v == null ? Truth.NO : v instanceof String s ? (s.isEmpty() ? Truth.NO : Truth.YES) : Truth.UNKNOWN;
        }
        return compare(String.valueOf(op), n.get("type"), v, n.get("value"), Boolean.TRUE.equals(n.get("caseExact")));
    }

    /**
     * {@code members.value eq "id"} by the relation. Compared without case, an id with letters that is not
     * found as written may still match: that stays for the engine.
     */
    private Truth membership(Object op, Object type, Object value, boolean caseExact, String id) {
        if (members == null || id == null || !"eq".equals(op) || !"text".equals(type) || !(value instanceof String member)) {
            return Truth.UNKNOWN;
        }
        if (members.has(id, member)) {
            return Truth.YES;
        }
        boolean caseless = member.toLowerCase(java.util.Locale.ROOT).equals(member.toUpperCase(java.util.Locale.ROOT));
        return caseExact || caseless ? Truth.NO : Truth.UNKNOWN;
    }

    private static Truth compare(String op, Object type, Object v, Object value, boolean caseExact) {
        if ("null".equals(type) || value == null) {
            return switch (op) {
                case "eq" -> v == null ? Truth.YES : Truth.NO;
                case "ne" -> v == null ? Truth.NO : Truth.YES;
                default -> Truth.UNKNOWN;
            };
        }
        if (v == null) {
            // An absent value matches no comparison; whether it is "not equal" is the engine's to say.
            return op.equals("ne") ? Truth.UNKNOWN : Truth.NO;
        }
        Boolean equal = null;
        if ("text".equals(type) && v instanceof String s && value instanceof String f && ascii(s) && ascii(f)) {
            String a = caseExact ? s : s.toLowerCase(java.util.Locale.ROOT);
            String b = caseExact ? f : f.toLowerCase(java.util.Locale.ROOT);
            switch (op) {
                case "co":
                    return a.contains(b) ? Truth.YES : Truth.NO;
                case "sw":
                    return a.startsWith(b) ? Truth.YES : Truth.NO;
                case "ew":
                    return a.endsWith(b) ? Truth.YES : Truth.NO;
                default:
                    equal = a.equals(b);
            }
        } else if ("boolean".equals(type) && value instanceof Boolean f) {
            Boolean b = v instanceof Boolean x ? x : v instanceof Number x && (x.longValue() == 0 || x.longValue() == 1) ? x.longValue() == 1 : null;
            equal = b == null ? null : b.equals(f);
        } else if (("integer".equals(type) || "decimal".equals(type)) && v instanceof Number a && value instanceof Number b) {
            int c = new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString()));
            return switch (op) {
                case "eq" -> c == 0 ? Truth.YES : Truth.NO;
                case "ne" -> c != 0 ? Truth.YES : Truth.NO;
                case "gt" -> c > 0 ? Truth.YES : Truth.NO;
                case "ge" -> c >= 0 ? Truth.YES : Truth.NO;
                case "lt" -> c < 0 ? Truth.YES : Truth.NO;
                case "le" -> c <= 0 ? Truth.YES : Truth.NO;
                default -> Truth.UNKNOWN;
            };
        }
        if (equal == null) {
            return Truth.UNKNOWN;
        }
        return switch (op) {
            case "eq" -> equal ? Truth.YES : Truth.NO;
            case "ne" -> equal ? Truth.NO : Truth.YES;
            default -> Truth.UNKNOWN;
        };
    }

    private static boolean ascii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }
}
