"""The example application: a learning platform's own tables on sqlite3, served as SCIM at /scim/v2."""
