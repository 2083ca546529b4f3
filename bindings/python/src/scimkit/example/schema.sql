-- The application's own tables, as a Chamilo-like learning platform keeps them. The engine's configuration
-- (config.py) maps SCIM attributes onto these columns; the only additions for SCIM are `scim_extra`, which
-- keeps the attributes the application has no column for, and the members' `display` as the client sent it.
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    username_canonical TEXT NOT NULL UNIQUE,
    firstname TEXT,
    lastname TEXT,
    email TEXT,
    official_code TEXT,
    phone TEXT,
    language TEXT,
    active INTEGER DEFAULT 1, -- new accounts are active; NULL once a client removes the value
    created_at TEXT,
    updated_at TEXT,
    scim_extra TEXT,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS usergroup (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_canonical TEXT UNIQUE,
    description TEXT,
    external_id TEXT,
    created_at TEXT,
    updated_at TEXT,
    scim_extra TEXT,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS usergroup_rel_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    usergroup_id INTEGER NOT NULL REFERENCES usergroup(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    relation_type INTEGER NOT NULL DEFAULT 0,
    display TEXT,
    UNIQUE (usergroup_id, user_id)
);
-- A user's groups are read on every GET of the user: one lookup by user_id.
CREATE INDEX IF NOT EXISTS usergroup_rel_user_user ON usergroup_rel_user (user_id);
