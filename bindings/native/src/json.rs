//! The storage contract's values as JSON, the one format every language reads: arguments going to the
//! callback, and its replies coming back. Shapes are documented in include/scimkit.h.

use scimkit_runtime::bindings::{
    Applied, CompareOp, Filter, FilterNode, Literal, Member, Page, Query, StorageError, Stored, UniqueKey,
};
use serde_json::{json, Map, Value};

/// The engine's body text as a JSON value, so that callers get their row as an object, not as a string.
pub fn body(data: &str) -> Value {
    serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_string()))
}

pub fn unique(keys: &[UniqueKey]) -> Value {
    keys.iter().map(|k| json!({"attribute": k.attribute, "value": k.value})).collect()
}

pub fn members(ms: &[Member]) -> Value {
    ms.iter().map(|m| json!({"value": m.value, "type": m.kind, "display": m.display})).collect()
}

pub fn query(q: &Query) -> Result<Value, StorageError> {
    let filter = q.filter.as_ref().map(|f| filter_tree(f, f.root, 0)).transpose()?;
    let sort = q.sort.as_ref().map(|s| json!({"path": s.path, "descending": s.descending, "caseExact": s.case_exact}));
    Ok(json!({
        "resourceType": q.resource_type, "filter": filter, "sort": sort,
        "startIndex": q.start_index, "count": q.count, "withoutMembers": q.without_members,
    }))
}

/// The flat filter as a nested tree, which is what a recursive SQL builder wants.
fn filter_tree(f: &Filter, i: u32, depth: usize) -> Result<Value, StorageError> {
    let bad = || StorageError::Other("malformed filter from the engine".into());
    if depth > 64 {
        return Err(bad());
    }
    let sub = |c: u32| filter_tree(f, c, depth + 1);
    let list = |cs: &[u32]| cs.iter().map(|&c| sub(c)).collect::<Result<Vec<_>, _>>();
    Ok(match f.nodes.get(i as usize).ok_or_else(bad)? {
        FilterNode::AllOf(cs) => json!({"op": "and", "args": list(cs)?}),
        FilterNode::AnyOf(cs) => json!({"op": "or", "args": list(cs)?}),
        FilterNode::Negate(c) => json!({"op": "not", "arg": sub(*c)?}),
        FilterNode::Present(p) => json!({"op": "pr", "path": p}),
        FilterNode::ElementMatch((p, c)) => json!({"op": "match", "path": p, "arg": sub(*c)?}),
        FilterNode::Compare(c) => {
            let (kind, value) = match &c.value {
                Literal::Null => ("null", Value::Null),
                Literal::Boolean(b) => ("boolean", json!(b)),
                Literal::Integer(n) => ("integer", json!(n)),
                Literal::Decimal(d) => ("decimal", json!(d)),
                Literal::Text(s) => ("text", json!(s)),
                Literal::DateTime(s) => ("dateTime", json!(s)),
            };
            json!({"op": op_name(c.op), "path": c.path, "value": value, "type": kind, "caseExact": c.case_exact})
        }
    })
}

/// The operator's keyword, as the engine's filter language spells it.
fn op_name(op: CompareOp) -> &'static str {
    use scimkit_guest::filter::CompareOp as Engine;
    let op = match op {
        CompareOp::Eq => Engine::Eq,
        CompareOp::Ne => Engine::Ne,
        CompareOp::Co => Engine::Co,
        CompareOp::Sw => Engine::Sw,
        CompareOp::Ew => Engine::Ew,
        CompareOp::Gt => Engine::Gt,
        CompareOp::Ge => Engine::Ge,
        CompareOp::Lt => Engine::Lt,
        CompareOp::Le => Engine::Le,
    };
    op.keyword()
}

/// A reply: `{"error": …}` becomes that storage error, anything else is the value.
pub fn reply(text: &str) -> Result<Value, StorageError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| StorageError::Other(format!("the storage reply is not JSON: {e}")))?;
    let Some(kind) = v.as_object().and_then(|o| o.get("error")) else { return Ok(v) };
    let detail = v.get("detail").map(text_of).unwrap_or_default();
    Err(match kind.as_str().unwrap_or("") {
        "not-found" => StorageError::NotFound,
        "conflict" => StorageError::Conflict(detail),
        "precondition-failed" => StorageError::PreconditionFailed,
        "unsupported" => StorageError::Unsupported,
        "unavailable" => StorageError::Unavailable(detail),
        other => StorageError::Other(format!("{other}: {detail}")),
    })
}

/// Ids and versions may come back as numbers (integer keys); they are text to the engine.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a Value, StorageError> {
    o.get(name).filter(|v| !v.is_null()).ok_or_else(|| StorageError::Other(format!("the storage reply lacks {name}")))
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, StorageError> {
    v.as_object().ok_or_else(|| StorageError::Other(format!("the storage reply: {what} must be an object")))
}

pub fn stored(v: &Value) -> Result<Stored, StorageError> {
    let o = object(v, "a resource")?;
    let data = match field(o, "data")? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let members = match o.get("members") {
        None | Some(Value::Null) => None,
        Some(m) => Some(member_list(m)?),
    };
    Ok(Stored { id: text_of(field(o, "id")?), version: text_of(field(o, "version")?), data, members })
}

pub fn member_list(v: &Value) -> Result<Vec<Member>, StorageError> {
    let items = v.as_array().ok_or_else(|| StorageError::Other("the storage reply: members must be a list".into()))?;
    items
        .iter()
        .map(|m| {
            let o = object(m, "a member")?;
            let opt = |k: &str| o.get(k).filter(|v| !v.is_null()).map(text_of);
            Ok(Member { value: text_of(field(o, "value")?), kind: opt("type"), display: opt("display") })
        })
        .collect()
}

pub fn page(v: &Value) -> Result<Page, StorageError> {
    let o = object(v, "a page")?;
    let items = field(o, "items")?.as_array().ok_or_else(|| StorageError::Other("items must be a list".into()))?;
    let applied = match o.get("applied").and_then(Value::as_str) {
        Some("everything") => match o.get("total").and_then(Value::as_u64) {
            Some(total) => Applied::Everything(total),
            None => return Err(StorageError::Other("applied everything needs a total".into())),
        },
        Some("filter-only") => Applied::FilterOnly,
        _ => Applied::Nothing,
    };
    Ok(Page { items: items.iter().map(stored).collect::<Result<_, _>>()?, applied })
}

/// `null`, `["User","42"]` or `{"resourceType":"User","id":"42"}`.
pub fn principal(v: &Value) -> Result<Option<(String, String)>, StorageError> {
    match v {
        Value::Null => Ok(None),
        Value::Array(a) if a.len() == 2 => Ok(Some((text_of(&a[0]), text_of(&a[1])))),
        Value::Object(o) => Ok(Some((text_of(field(o, "resourceType")?), text_of(field(o, "id")?)))),
        _ => Err(StorageError::Other("the storage reply: a principal is null, [type, id] or an object".into())),
    }
}
