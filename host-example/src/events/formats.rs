//! What a receiver is sent for one journal entry: a signed webhook, or an RFC 9967 Security Event Token.

use super::journal::Entry;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use sha2::Sha256;

/// RFC 9967 event URIs.
pub const CREATE_FULL: &str = "urn:ietf:params:scim:event:prov:create:full";
pub const PUT_FULL: &str = "urn:ietf:params:scim:event:prov:put:full";
pub const PATCH_NOTICE: &str = "urn:ietf:params:scim:event:prov:patch:notice";
pub const DELETE: &str = "urn:ietf:params:scim:event:prov:delete";
pub const ACTIVATE: &str = "urn:ietf:params:scim:event:prov:activate";
pub const DEACTIVATE: &str = "urn:ietf:params:scim:event:prov:deactivate";

/// A request body with its content type and the headers that go with it.
pub struct Delivery {
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The webhook: the journal entry as JSON with its event id, signed with HMAC-SHA256 under `secret`.
pub fn webhook(tenant: &str, entry: &Entry, secret: &str) -> Delivery {
    let mut event = match &entry.body {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    event.insert("eventId".into(), json!(entry.event_id));
    event.insert("sequence".into(), json!(entry.seq));
    event.insert("time".into(), json!(entry.at));
    event.insert("tenant".into(), json!(tenant));
    let body = Value::Object(event).to_string().into_bytes();
    let headers = vec![
        ("X-Scimkit-Signature", format!("sha256={}", sign(secret, &body))),
        ("X-Scimkit-Event-Id", entry.event_id.clone()),
    ];
    Delivery { content_type: "application/json", headers, body }
}

/// Hex HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The RFC 9967 SET of one change, signed HS256 under `secret`: issued by the tenant's SCIM base URL for the
/// receiver's URL; the subject is the resource (`sub_id` of format `scim`); `txn` is the change's event id, so
/// that the SETs of one change (and a SET sent again) are recognised; one event for the operation, plus
/// `activate`/`deactivate` when `active` changed.
pub fn set(issuer: &str, audience: &str, entry: &Entry, secret: &str) -> anyhow::Result<Delivery> {
    let b = &entry.body;
    let rtype = b["resourceType"].as_str().unwrap_or_default();
    let id = b["id"].as_str().unwrap_or_default();
    let endpoint = match rtype {
        "User" => "Users".to_string(),
        "Group" => "Groups".to_string(),
        other => format!("{other}s"),
    };
    let ops: Vec<&str> = b["operations"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut events = Map::new();
    match ops.first().copied() {
        Some("create") => {
            events.insert(CREATE_FULL.into(), json!({ "data": b["after"] }));
        }
        Some("replace") => {
            events.insert(PUT_FULL.into(), json!({ "data": b["after"] }));
        }
        Some("delete") => {
            events.insert(DELETE.into(), json!({}));
        }
        _ => {
            events.insert(PATCH_NOTICE.into(), json!({ "attributes": b["paths"] }));
        }
    }
    if ops.contains(&"activated") {
        events.insert(ACTIVATE.into(), json!({}));
    }
    if ops.contains(&"deactivated") {
        events.insert(DEACTIVATE.into(), json!({}));
    }
    let mut sub_id = json!({ "format": "scim", "uri": format!("/{endpoint}/{id}") });
    if let Some(external) = b["after"].get("externalId").or_else(|| b["before"].get("externalId")) {
        sub_id["externalId"] = external.clone();
    }
    let claims = json!({
        "iss": issuer,
        "aud": audience,
        "jti": entry.event_id,
        "iat": entry.at,
        "toe": entry.at,
        "txn": entry.event_id,
        "sub_id": sub_id,
        "events": events,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("secevent+jwt".into());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes()))?;
    Ok(Delivery {
        content_type: "application/secevent+jwt",
        headers: vec![("Accept", "application/json".into())],
        body: token.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
