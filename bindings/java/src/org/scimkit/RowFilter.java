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
 * pages them exactly.
 */
public final class RowFilter {
    /** A judgement in three-valued logic: unknown parts stay possible through and, or and not. */
    private enum Truth {
        YES, NO, UNKNOWN;

        Truth not() {
            return this == YES ? NO : this == NO ? YES : UNKNOWN;
        }
    }

    private final Map<String, Object> filter;
    private final Set<String> columns;

    private RowFilter(Map<String, Object> filter, Set<String> columns) {
        this.filter = filter;
        this.columns = columns;
    }

    /**
     * @param filter the query's filter (null: every row)
     * @param columns the storage's columns: a path outside them is judged by the engine alone
     */
    public static RowFilter of(Map<String, Object> filter, Set<String> columns) {
        return new RowFilter(filter, Set.copyOf(columns));
    }

    /** Whether the row may match: false only when it certainly does not. */
    public boolean mayMatch(Map<String, Object> row) {
        return filter == null || eval(filter, row, 0) != Truth.NO;
    }

    private Truth eval(Map<?, ?> n, Map<String, Object> row, int depth) {
        if (depth > 64) {
            return Truth.UNKNOWN;
        }
        Object op = n.get("op");
        if ("and".equals(op) || "or".equals(op)) {
            boolean and = "and".equals(op);
            Truth out = and ? Truth.YES : Truth.NO;
            for (Object arg : n.get("args") instanceof List<?> l ? l : List.of()) {
                Truth t = arg instanceof Map<?, ?> m ? eval(m, row, depth + 1) : Truth.UNKNOWN;
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
            return n.get("arg") instanceof Map<?, ?> m ? eval(m, row, depth + 1).not() : Truth.UNKNOWN;
        }
        Object path = n.get("path");
        if (!(path instanceof String column) || !columns.contains(column)) {
            return Truth.UNKNOWN;
        }
        Object v = row.get(column);
        if ("pr".equals(op)) {
            return v == null ? Truth.NO : v instanceof String s ? (s.isEmpty() ? Truth.NO : Truth.YES) : Truth.UNKNOWN;
        }
        return compare(String.valueOf(op), n.get("type"), v, n.get("value"), Boolean.TRUE.equals(n.get("caseExact")));
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
            // An absent value matches no comparison but "not equal".
            return op.equals("ne") ? Truth.YES : Truth.NO;
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
