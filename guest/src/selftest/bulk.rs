//! Bulk (when announced): a POST by `bulkId` and a failing operation, each answered on its own.

use super::{has, user, Suite};
use crate::bulk::{BULK_REQUEST, BULK_RESPONSE};
use serde_json::{json, Value};

const SECTION: &str = "RFC 7644 §3.7";

pub fn run(s: &mut Suite) {
    let name = "bulk: POST and a failing operation";
    let Some(endpoint) = s.announced.users.clone().filter(|_| s.announced.bulk) else {
        let why = if s.announced.bulk {
            "not announced: no User resource type"
        } else {
            "not announced: bulk.supported is false"
        };
        return s.skip(name, SECTION, why);
    };
    let user_name = s.unique("bulk");
    let body = json!({"schemas": [BULK_REQUEST], "Operations": [
        {"method": "POST", "path": endpoint, "bulkId": "selftest-1", "data": user(&user_name)},
        {"method": "POST", "path": endpoint, "bulkId": "selftest-2", "data": {"schemas": [crate::schema::USER]}},
    ]});
    let r = s.call("POST", "/Bulk", Some(&body), &[]).and_then(|r| {
        r.status_in(&[200])?;
        if !has(&r.body["schemas"], BULK_RESPONSE) {
            return Err(format!("expected a BulkResponse (schemas holding {BULK_RESPONSE}), saw {}", r.body));
        }
        let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
        let op = |bulk_id: &str| ops.iter().find(|o| o["bulkId"] == bulk_id).cloned().unwrap_or(Value::Null);
        let (created, failed) = (op("selftest-1"), op("selftest-2"));
        if let Some(id) = created["location"].as_str().and_then(|l| l.rsplit('/').next()) {
            s.delete_later(&format!("{endpoint}/{id}"));
        }
        if created["status"] != "201" || created["location"].as_str().is_none() {
            return Err(format!("expected the first operation with status \"201\" and a location, saw {created}"));
        }
        if failed["status"] != "400" {
            return Err(format!("expected the second operation (no userName) with status \"400\", saw {failed}"));
        }
        Ok(())
    });
    s.record(name, SECTION, r);
}
