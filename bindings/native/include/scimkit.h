/* scimkit: a SCIM 2.0 service provider (RFC 7643/7644) as a C library.
 *
 * The engine holds all SCIM logic; the caller answers storage operations through one callback and passes
 * each HTTP request below its SCIM base to scimkit_handle. Every string is UTF-8 and NUL-terminated.
 * Strings returned by the library are freed with scimkit_free. No function crashes on a null pointer.
 *
 * Storage callback
 * ----------------
 * The engine calls `cb(user, op, args_json, reply)` during scimkit_handle, on the calling thread. The
 * callback answers by calling scimkit_reply(reply, json) once (the text is copied) and returning 0. A
 * non-zero return, or no reply, is a storage failure: the request answers a SCIM 500 error.
 *
 * Errors are replies too:  {"error": "not-found" | "conflict" | "precondition-failed" | "unsupported"
 *                                     | "unavailable" | "other", "detail": "…"}
 * ("conflict"'s detail names the taken column or attribute; "unavailable" answers 503.)
 *
 * Values below: RESOURCE = {"id": ID, "version": V, "data": ROW, "members": [MEMBER…] | null}
 *   ID and V are strings or integers; V changes on every write, including membership changes.
 *   ROW is the JSON object the engine wrote (under a `mapping`, the host's own columns), or its JSON text.
 *   MEMBER = {"value": ID, "type": "User" | "Group" | null, "display": text | null}
 *   UNIQUE = [{"attribute": name, "value": normalised value}…]   (hold each unique per resource type)
 *
 *   op                 args_json                                                    reply
 *   "get"              {"resourceType","id","withMembers"}                          RESOURCE | null
 *   "create"           {"resourceType","data":ROW,"unique":UNIQUE,"members":[MEMBER…]}  RESOURCE (members null)
 *   "update"           {"resourceType","id","data":ROW|null,"unique":UNIQUE,
 *                       "clearMembers":bool,"removeMembers":[ID…],"addMembers":[MEMBER…],
 *                       "ifVersion":V|null}                                         RESOURCE (members null)
 *                       data null: leave the row (a membership-only change); ifVersion set and not
 *                       the stored version: "precondition-failed"; unknown id: "not-found".
 *   "delete"           {"resourceType","id","ifVersion"}                            null (also remove the id
 *                                                                                    from every member list)
 *   "search"           {"resourceType","filter":FILTER|null,"sort":{"path","descending","caseExact"}|null,
 *                       "startIndex":n (1-based),"count":n,"withoutMembers":bool}
 *                                                   {"items":[RESOURCE…],"total":n|null,"applied":APPLIED}
 *   "members"          {"resourceType","id","startIndex","count"}                   [MEMBER…]
 *   "resolve-principal"{"principal"}                                  null | ["User", ID] | {"error":"unsupported"}
 *   "event-check"      CHANGE, before every write                 null (allow) | {"adjust": RESOURCE_JSON}
 *                                     | {"refuse": {"status":400..599,"scimType":t|null,"detail":text}}
 *   "event-changed"    CHANGE with "version" (empty after a delete), after every write     null
 * CHANGE = {"resourceType","id" ("" before a create is stored),"operations":["create"|"replace"|"patch"|
 *   "delete"|"members-added"|"members-removed"|"activated"|"deactivated"…],"paths":[PATH…],
 *   "before":SCIM_RESOURCE|null,"after":SCIM_RESOURCE|null,"membersAdded":[ID…],"membersRemoved":[ID…],
 *   "membersCleared":bool}: the SCIM form (not rows), never with a password; see `events` in wit/scim.wit.
 *   A callback answering {"error":"unsupported"} to them (as to any unknown op) allows every write; another
 *   error refuses the write with 500. An "adjust" resource is validated as a PUT body.
 *
 * FILTER is a tree whose paths are column names under a mapping (else SCIM paths such as name.familyName):
 *   {"op":"and"|"or","args":[FILTER…]}  {"op":"not","arg":FILTER}  {"op":"pr","path":p}
 *   {"op":"eq"|"ne"|"co"|"sw"|"ew"|"gt"|"ge"|"lt"|"le","path":p,"value":v,
 *    "type":"text"|"boolean"|"integer"|"decimal"|"dateTime"|"null","caseExact":bool}
 *   {"op":"match","path":p,"arg":FILTER}   (one element of a multi-valued attribute matches arg)
 * Under a mapping, the path "members.value" is reserved: {"op":"eq","path":"members.value","value":ID,
 * "type":"text",…} asks for the groups having member ID (sent for a User's groups, an "or" of them for
 * several users, and for clients' filters on members). Answer it from the membership relation (an
 * IN (SELECT group FROM rel WHERE member = ?)), or treat it as no constraint and answer "nothing".
 * APPLIED says what the host did: "everything" (filter, sort and paging; total required), "filter-only"
 * (all matches, any order) or "nothing" (a superset of the matches). The engine re-does the rest.
 */
#ifndef SCIMKIT_H
#define SCIMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ScimkitEngine ScimkitEngine;

/* One callback for every storage operation; see above. `user` is the pointer given to scimkit_engine_new. */
typedef int32_t (*scimkit_storage_cb)(void *user, const char *op, const char *args_json, void *reply);

/* Creates an engine from a component file (null: the component built into this library) and a
 * configuration (JSON, as the WIT `provider.configure`, including `mapping`). The component is compiled
 * once and cached in `cache_dir` (null: the component's directory); compiled components and configured
 * instances are kept for the life of the process, so creating an engine per request is cheap.
 * Returns null on failure, with a message in *error_out (when error_out is not null; free it). */
ScimkitEngine *scimkit_engine_new(const char *component_path, const char *cache_dir, const char *config_json,
                                  scimkit_storage_cb cb, void *user, char **error_out);

/* Answers one request. method: "GET"…; path: below the SCIM base ("/Users/42"); query: raw, without "?";
 * headers_json: [["Name","value"],…] or {"Name":"value",…} (null: none); body: null for none; principal:
 * the authenticated user for /Me, or null. Returns {"status":n,"headers":[["Name","value"],…],"body":"…"};
 * every failure is a SCIM error response in that form. */
char *scimkit_handle(const ScimkitEngine *engine, const char *method, const char *path, const char *query,
                     const char *headers_json, const uint8_t *body, size_t body_len, const char *principal);

/* The storage callback's answer (copied). */
void scimkit_reply(void *reply, const char *json);

/* Frees a string returned by this library. */
void scimkit_free(char *s);

/* Frees an engine handle. */
void scimkit_engine_free(ScimkitEngine *engine);

#ifdef __cplusplus
}
#endif

#endif
