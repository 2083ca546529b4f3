//! Operations, end to end through the real binary: `scimkit import` (JSON lines, CSV; bad rows rejected with
//! their line, nothing half-applied; re-import updates), `scimkit export` and its round trip, `/metrics`, and
//! request ids in answers, the request log and JSON logs.

mod common;

use common::{cli, raw, Server, TempDir, TOKEN};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn user(file_id: &str, name: &str) -> Value {
    json!({"schemas": [USER], "id": file_id, "userName": name, "name": {"givenName": name.to_uppercase()}, "active": true})
}

fn lines(items: &[Value]) -> String {
    items.iter().map(|v| v.to_string() + "\n").collect()
}

/// `scimkit import … --json`: (exit status success, the summary).
fn import(data: &Path, file: &Path, flags: &[&str]) -> (bool, Value) {
    let mut args = vec!["import", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(flags);
    let (ok, out, err) = cli(data, &args, None);
    let summary =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("summary is not JSON ({e}): {out}\n{err}"));
    (ok, summary)
}

/// `scimkit export` as parsed JSON lines.
fn export(data: &Path, flags: &[&str]) -> Vec<Value> {
    let mut args = vec!["export"];
    args.extend_from_slice(flags);
    let (ok, out, err) = cli(data, &args, None);
    assert!(ok, "export: {err}");
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn rejections(summary: &Value) -> Vec<(u64, String)> {
    summary["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap().to_string()))
        .collect()
}

fn find<'a>(resources: &'a [Value], attr: &str, value: &str) -> Option<&'a Value> {
    resources.iter().find(|r| r[attr] == value)
}

#[test]
fn json_lines_import_rejects_bad_rows_with_their_line_and_applies_the_rest() {
    let dir = TempDir::new("import-jsonl");
    let data = dir.0.join("data");
    let file = dir.0.join("people.jsonl");
    let rows = [
        user("u1", "alice"),
        json!({"schemas": [USER], "id": "u2", "userName": "bob", "active": "sometimes"}),
        user("u3", "carol"),
        json!({"schemas": [USER], "displayName": "no user name"}),
        user("u5", "ALICE"),
        json!({"schemas": [GROUP], "id": "g1", "displayName": "staff", "members": [{"value": "u1"}, {"value": "u3"}, {"value": "g2"}]}),
        json!({"schemas": [GROUP], "id": "g2", "displayName": "admins", "members": [{"value": "u1", "$ref": "https://old.example/Users/u1"}]}),
        json!({"schemas": [GROUP], "id": "g3", "displayName": "with bob", "members": [{"value": "u3"}, {"value": "u2"}]}),
    ];
    std::fs::write(&file, lines(&rows) + "{not json\n").unwrap();
    let (ok, summary) = import(&data, &file, &[]);
    assert!(!ok, "a rejected row makes the exit status non-zero");
    assert_eq!(
        (summary["created"].as_u64(), summary["rejected"].as_u64(), summary["rows"].as_u64()),
        (Some(4), Some(5), Some(9)),
        "{summary}"
    );
    let rejected = rejections(&summary);
    assert_eq!(rejected.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4, 5, 8, 9], "{summary}");
    assert!(rejected[0].1.starts_with("400 invalidValue"), "the engine's error: {}", rejected[0].1);
    assert!(rejected[2].1.contains("line 1"), "a repeated userName names the first row: {}", rejected[2].1);
    assert!(rejected[3].1.contains("line 2"), "a group naming a rejected user says so: {}", rejected[3].1);
    assert!(rejected[4].1.starts_with("not JSON"), "{}", rejected[4].1);

    let s = Server::start(&data, &[]);
    let users = s.get("/Users").json();
    let mut names: Vec<&str> =
        users["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
    // Rows are imported in parallel: the order they were created in is not the file's.
    names.sort_unstable();
    assert_eq!(names, ["alice", "carol"], "only the good rows are in, none half-written");
    let ids: HashMap<&str, &str> = users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userName"].as_str().unwrap(), u["id"].as_str().unwrap()))
        .collect();
    assert_ne!(ids["alice"], "u1", "the engine gives new ids");
    let groups = s.get("/Groups").json();
    let groups = groups["Resources"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    let admins = find(groups, "displayName", "admins").unwrap();
    let staff = find(groups, "displayName", "staff").unwrap();
    let members = |g: &Value| {
        g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(members(admins), [ids["alice"]], "file ids are rewritten to the new ids");
    assert!(admins["members"][0]["$ref"].as_str().unwrap().starts_with(&s.base), "the old $ref is not kept");
    assert_eq!(
        members(staff),
        [ids["alice"], ids["carol"], admins["id"].as_str().unwrap()],
        "a nested group of the file is written first"
    );
}

#[test]
fn csv_import_types_cells_and_a_second_import_updates() {
    let dir = TempDir::new("import-csv");
    let data = dir.0.join("data");
    let file = dir.0.join("people.csv");
    let header = "userName,name.givenName,emails[type eq \"work\"].value,emails[type eq \"work\"].primary,active,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
    std::fs::write(
        &file,
        format!(
            "{header}\nann,Ann,ann@example.org,true,true,7\nben,Ben,,,perhaps,\n\"cy, jr\",Cy,cy@example.org,,false,\n"
        ),
    )
    .unwrap();
    let (ok, summary) = import(&data, &file, &[]);
    assert!(!ok);
    assert_eq!(summary["created"], 2, "{summary}");
    assert_eq!(rejections(&summary).iter().map(|r| r.0).collect::<Vec<_>>(), [3]);
    assert!(rejections(&summary)[0].1.contains("active"), "{summary}");
    let users = export(&data, &["--type", "User"]);
    let ann = find(&users, "userName", "ann").unwrap();
    assert_eq!(ann["emails"], json!([{"type": "work", "value": "ann@example.org", "primary": true}]));
    assert_eq!(ann["active"], true);
    assert_eq!(ann["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "7");
    assert_eq!(find(&users, "userName", "cy, jr").unwrap()["active"], false);

    // The same people again, Ann renamed, Ben fixed: one update, one create, one unchanged.
    std::fs::write(
        &file,
        format!(
            "{header}\nann,Annie,ann@example.org,true,true,7\nben,Ben,,,true,\n\"cy, jr\",Cy,cy@example.org,,false,\n"
        ),
    )
    .unwrap();
    let (ok, summary) = import(&data, &file, &[]);
    assert!(ok, "{summary}");
    assert_eq!(
        (summary["created"].as_u64(), summary["updated"].as_u64(), summary["unchanged"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{summary}"
    );
    let after = export(&data, &["--type", "User"]);
    assert_eq!(after.len(), 3);
    let ann2 = find(&after, "userName", "ann").unwrap();
    assert_eq!(ann2["name"]["givenName"], "Annie");
    assert_eq!(ann2["id"], ann["id"], "an update keeps the resource");

    let (ok, out, _) =
        cli(&data, &["export", "--format", "csv", "--type", "User", "--columns", "userName,active"], None);
    assert!(ok);
    // Rows are imported in parallel, so the order of creation (and of the export) is not the file's.
    let (head, rows) = out.split_once('\n').unwrap();
    let mut rows: Vec<&str> = rows.lines().collect();
    rows.sort();
    assert_eq!((head, rows), ("userName,active", vec!["\"cy, jr\",false", "ann,true", "ben,true"]));
    std::fs::write(&file, "userName,nickname_typo\nx,y\n").unwrap();
    let (ok, _, err) = cli(&data, &["import", file.to_str().unwrap()], None);
    assert!(!ok && err.contains("line 1") && err.contains("nickname_typo"), "a bad header refuses the file: {err}");
}

/// CSV export guards against formula injection: a cell beginning with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is written behind a `'`; the import takes it off, so the values come back as they were.
#[test]
fn csv_cells_that_look_like_formulas_are_quoted_and_round_trip() {
    let dir = TempDir::new("csv-formulas");
    let (a, b) = (dir.0.join("a"), dir.0.join("b"));
    let names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=q", "plain"];
    let rows: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"schemas": [USER], "userName": format!("u{i}"), "displayName": n}))
        .collect();
    let file = dir.0.join("in.jsonl");
    std::fs::write(&file, lines(&rows)).unwrap();
    assert!(import(&a, &file, &[]).0);
    let csv_file = dir.0.join("out.csv");
    let (ok, _, err) = cli(
        &a,
        &[
            "export",
            "--format",
            "csv",
            "--type",
            "User",
            "--columns",
            "userName,displayName",
            "-o",
            csv_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&csv_file).unwrap();
    let mut cells: Vec<(String, String)> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string())
        })
        .collect();
    cells.sort();
    let expected: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("u{i}"), if *n == "plain" { n.to_string() } else { format!("'{n}") }))
        .collect();
    assert_eq!(cells, expected, "{text}");
    let (ok, summary) = import(&b, &csv_file, &[]);
    assert!(ok && summary["created"] == names.len(), "{summary}");
    let back = export(&b, &["--type", "User"]);
    for (i, n) in names.iter().enumerate() {
        assert_eq!(find(&back, "userName", &format!("u{i}")).unwrap()["displayName"], *n);
    }
}

/// A resource with ids replaced by names, so that two databases can be compared.
fn by_name(resources: &[Value]) -> Vec<Value> {
    let names: HashMap<String, String> = resources
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["userName"].as_str().or(r["displayName"].as_str()).unwrap().to_string(),
            )
        })
        .collect();
    let mut out: Vec<Value> = resources
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let o = r.as_object_mut().unwrap();
            o.remove("id");
            o.remove("meta");
            if let Some(Value::Array(ms)) = o.get_mut("members") {
                for m in ms.iter_mut() {
                    m["value"] = json!(names[m["value"].as_str().unwrap()]);
                    m.as_object_mut().unwrap().remove("$ref");
                }
            }
            r
        })
        .collect();
    out.sort_by_key(|r| r.to_string());
    out
}

#[test]
fn export_then_import_into_an_empty_directory_gives_the_same_resources() {
    let dir = TempDir::new("round-trip");
    let (a, b) = (dir.0.join("a"), dir.0.join("b"));
    let mut rows: Vec<Value> = (0..30).map(|i| user(&format!("f{i}"), &format!("user{i}"))).collect();
    rows[3]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"department": "R&D"});
    rows[3]["schemas"] = json!([USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]);
    rows.push(json!({"schemas": [GROUP], "id": "g", "displayName": "evens", "members": (0..30).step_by(2).map(|i| json!({"value": format!("f{i}")})).collect::<Vec<_>>()}));
    rows.push(json!({"schemas": [GROUP], "id": "h", "displayName": "outer", "members": [{"value": "g", "type": "Group"}, {"value": "f1"}]}));
    let file = dir.0.join("in.jsonl");
    std::fs::write(&file, lines(&rows)).unwrap();
    assert!(import(&a, &file, &[]).0);
    let first = export(&a, &[]);
    assert_eq!(first.len(), 32);
    assert!(first[..30].iter().all(|r| r["schemas"][0] == USER), "users first");

    let exported = dir.0.join("export.jsonl");
    let (ok, _, err) = cli(&a, &["export", "-o", exported.to_str().unwrap()], None);
    assert!(ok, "{err}");
    let (ok, summary) = import(&b, &exported, &[]);
    assert!(ok && summary["created"] == 32, "{summary}");
    let second = export(&b, &[]);
    assert_eq!(by_name(&first), by_name(&second));
    assert_ne!(first[0]["id"], second[0]["id"]);

    // The export, imported again where it came from, changes nothing.
    let (ok, summary) = import(&a, &exported, &[]);
    assert!(ok && summary["unchanged"] == 32, "{summary}");
    assert_eq!(export(&a, &[]), first, "not even meta.version moved");
}

/// Export pages by cursor (500 a page): every resource of a table of several pages is written exactly once.
#[test]
fn an_export_of_several_pages_writes_each_resource_once() {
    let dir = TempDir::new("export-pages");
    let data = dir.0.join("data");
    let rows: Vec<Value> = (0..1_203).map(|i| user(&format!("p{i}"), &format!("paged{i}"))).collect();
    let file = dir.0.join("many.jsonl");
    std::fs::write(&file, lines(&rows)).unwrap();
    assert!(import(&data, &file, &[]).0);
    let users = export(&data, &["--type", "User"]);
    let names: std::collections::BTreeSet<&str> = users.iter().map(|u| u["userName"].as_str().unwrap()).collect();
    assert_eq!((users.len(), names.len()), (1_203, 1_203));
    assert!(names.contains("paged0") && names.contains("paged1202"));
}

#[test]
fn an_import_beside_a_running_server_writes_durably_and_is_seen_at_once() {
    let dir = TempDir::new("import-live");
    let data = dir.0.join("data");
    let s = Server::start(&data, &[]);
    let file = dir.0.join("two.jsonl");
    std::fs::write(&file, lines(&[user("a", "live1"), user("b", "live2")])).unwrap();
    let (ok, summary) = import(&data, &file, &[]);
    assert!(ok, "{summary}");
    assert_eq!(summary["bulkLoad"], false, "no bulk-load mode while a server uses the directory");
    assert_eq!(s.get("/Users?filter=userName%20sw%20%22live%22").json()["totalResults"], 2);
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

#[test]
fn metrics_count_requests_and_storage_errors_and_request_ids_are_echoed_and_logged() {
    let dir = TempDir::new("metrics");
    let data = dir.0.join("data");
    let s = Server::start(&data, &["--log-format", "json"]);
    let scrape = || raw("GET", &format!("{}/metrics", s.root()), &[], None);
    let before = scrape();
    assert_eq!(before.status, 200);
    assert!(before.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let created = r#"scimkit_requests_total{tenant="default",method="POST",status="201"}"#;
    let conflict = r#"scimkit_requests_total{tenant="default",method="POST",status="409"}"#;
    let storage_conflicts = r#"scimkit_storage_errors_total{tenant="default",kind="conflict"}"#;
    assert_eq!(metric(&before.text, created), 0.0);

    let body = json!({"schemas": [USER], "userName": "dup"});
    let first = s.send("POST", "/Users", &[("X-Request-Id", "trace-abc-123")], Some(body.to_string()));
    assert_eq!(first.status, 201);
    assert_eq!(first.header("x-request-id"), Some("trace-abc-123"), "a well-formed id is kept");
    let second = s.post("/Users", &body);
    assert_eq!(second.status, 409);
    let generated = second.header("x-request-id").unwrap().to_string();
    assert_eq!(generated.len(), 36, "one is made when none is given: {generated}");
    let odd = s.send("GET", "/Users", &[("X-Request-Id", "has space")], None);
    assert_ne!(odd.header("x-request-id"), Some("has space"), "a malformed id is replaced");

    let after = scrape().text;
    assert_eq!(metric(&after, created), 1.0, "{after}");
    assert_eq!(metric(&after, conflict), 1.0, "{after}");
    assert_eq!(metric(&after, storage_conflicts), 1.0, "the uniqueness conflict came from storage: {after}");
    assert!(metric(&after, r#"scimkit_guest_seconds_count{tenant="default"}"#) >= 3.0, "{after}");
    assert!(
        metric(&after, r#"scimkit_request_duration_seconds_count{tenant="default",method="POST"}"#) >= 2.0,
        "{after}"
    );

    // The request log keeps the id; `scimkit logs` shows it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut out = String::new();
    while std::time::Instant::now() < deadline && !out.contains(&generated) {
        out = cli(&data, &["logs", "-n", "100"], None).1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let line = out.lines().find(|l| l.contains("trace-abc-123")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("POST /scim/v2/Users 201"), "{line}");
    assert!(out.lines().any(|l| l.contains(&generated) && l.contains(" 409 ")), "{out}");

    // Logs are JSON lines carrying the request's span.
    let log = s.stop();
    let answered: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    let ours = answered.iter().find(|v| v["span"]["request_id"] == "trace-abc-123").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(ours["fields"]["status"], 201);
    assert_eq!(ours["span"]["tenant"], "default");
}

#[test]
fn metrics_access_follows_the_configuration() {
    let dir = TempDir::new("metrics-access");
    let data = dir.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let url = |s: &Server| format!("{}/metrics", s.root());
    let s = Server::start_with_env(&data, &[], &[("SCIMKIT_METRICS_TOKEN", "scrape-me")]);
    let anonymous = raw("GET", &url(&s), &[], None);
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.header("www-authenticate").unwrap().starts_with("Bearer"));
    assert_eq!(
        raw("GET", &url(&s), &[("Authorization", format!("Bearer {TOKEN}"))], None).status,
        401,
        "the SCIM token is not the metrics token"
    );
    assert_eq!(raw("GET", &url(&s), &[("Authorization", "Bearer scrape-me".to_string())], None).status, 200);
    drop(s);
    std::fs::write(data.join("scimkit.toml"), "[metrics]\nenabled = false\n").unwrap();
    let s = Server::start(&data, &[]);
    assert_eq!(raw("GET", &url(&s), &[], None).status, 404);
    std::fs::write(data.join("scimkit.toml"), "[metrics]\nallow_networks = [\"192.0.2.0/24\"]\n").unwrap();
    drop(s);
    let s = Server::start(&data, &[]);
    assert_eq!(raw("GET", &url(&s), &[], None).status, 403);
}

#[test]
fn ldif_import_maps_entries_to_users_and_derived_groups_that_hold_them() {
    let dir = TempDir::new("import-ldif");
    let data = dir.0.join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (ldif, mapping) = (root.join("examples/people.ldif"), root.join("examples/ldap-mapping.toml"));
    let flags = ["--mapping", mapping.to_str().unwrap()];
    let (ok, summary) = import(&data, &ldif, &flags);
    assert!(ok, "{summary}");
    assert_eq!(
        (summary["created"].as_u64(), summary["rejected"].as_u64()),
        (Some(9), Some(0)),
        "3 people, 6 groups: {summary}"
    );
    let all = export(&data, &[]);
    let names: HashMap<&str, &str> =
        all.iter().filter_map(|r| Some((r["id"].as_str()?, r["userName"].as_str()?))).collect();
    let members = |group: &str| {
        let g = find(&all, "displayName", group).unwrap_or_else(|| panic!("no group {group}"));
        let mut m: Vec<&str> =
            g["members"].as_array().unwrap().iter().map(|m| names[m["value"].as_str().unwrap()]).collect();
        m.sort();
        m
    };
    assert_eq!(members("dir-dept-physics"), ["asmith", "jdoe"]);
    assert_eq!(members("dir-member"), ["jdoe", "rroe"]);
    assert_eq!(find(&all, "userName", "jdoe").unwrap()["externalId"], "ldap:jdoe");
    let (ok, again) = import(&data, &ldif, &flags);
    assert!(ok && again["unchanged"] == 9, "the same directory again changes nothing: {again}");
}
