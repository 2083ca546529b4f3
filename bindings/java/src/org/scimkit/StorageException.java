package org.scimkit;

/** An expected storage failure, which the engine turns into the matching SCIM error response. */
public final class StorageException extends RuntimeException {
    private final String kind;
    private final String detail;

    private StorageException(String kind, String detail) {
        super(detail.isEmpty() ? kind : kind + ": " + detail);
        this.kind = kind;
        this.detail = detail;
    }

    /** 404 */
    public static StorageException notFound() {
        return new StorageException("not-found", "");
    }

    /** 409; {@code column} is the unique column whose value is taken. */
    public static StorageException conflict(String column) {
        return new StorageException("conflict", column);
    }

    /** 412 */
    public static StorageException preconditionFailed() {
        return new StorageException("precondition-failed", "");
    }

    /** The operation is not supported by this storage. */
    public static StorageException unsupported() {
        return new StorageException("unsupported", "");
    }

    /** 503, a temporary failure; the detail is logged, not shown to clients. */
    public static StorageException unavailable(String detail) {
        return new StorageException("unavailable", detail);
    }

    /** The kind as the storage callback names it: not-found, conflict, … */
    public String kind() {
        return kind;
    }

    String detail() {
        return detail;
    }
}
