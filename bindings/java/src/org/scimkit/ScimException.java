package org.scimkit;

/** A scimkit failure: a refused configuration, a closed object, or an internal error (never a Rust panic escaping). */
public class ScimException extends RuntimeException {
    public ScimException(String message) {
        super(message);
    }
}
