//! The binding layer: the WIT world `engine` exported by this crate, and the imported storage adapted to
//! [`crate::store::Store`]. Nothing here decides anything about SCIM.

wit_bindgen::generate!({ path: "../wit", world: "engine" });

use crate::store as s;
use exports::scimkit::scim::{mapper, provider, provisioner};
use scimkit::scim::{clock, query_types as q, storage as w, transport};
use std::cell::RefCell;

struct Component;
export!(Component);

thread_local! {
    static ENGINE: RefCell<Option<crate::Engine>> = const { RefCell::new(None) };
    static MAPPING: RefCell<Option<crate::mapper::Mapping>> = const { RefCell::new(None) };
    static PROVISIONER: RefCell<Option<crate::provisioner::Provisioner>> = const { RefCell::new(None) };
}

impl provider::Guest for Component {
    fn configure(config: String) -> Result<(), String> {
        let engine = crate::Engine::new(&config)?;
        ENGINE.with(|e| *e.borrow_mut() = Some(engine));
        Ok(())
    }

    fn handle(who: provider::Caller, req: provider::HttpRequest) -> provider::HttpResponse {
        let req = crate::http::Request {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let resp = ENGINE.with(|e| match &*e.borrow() {
            Some(engine) => engine.handle(&mut HostStore, now(), who.principal.as_deref(), &req),
            None => crate::http::Response::error(&crate::error::internal("the engine is not configured")),
        });
        provider::HttpResponse { status: resp.status, headers: resp.headers, body: resp.body }
    }
}

impl mapper::Guest for Component {
    fn configure(mapping: String) -> Result<(), String> {
        let m = crate::mapper::Mapping::from_json(&mapping)?;
        MAPPING.with(|cell| *cell.borrow_mut() = Some(m));
        Ok(())
    }

    fn to_resources(attrs: mapper::Attributes) -> Result<Vec<String>, String> {
        MAPPING.with(|cell| match &*cell.borrow() {
            Some(m) => Ok(m.to_resources(&attrs)?.iter().map(|r| r.to_string()).collect()),
            None => Err("the mapper is not configured".into()),
        })
    }

    fn to_attributes(scim_resource: String) -> Result<mapper::Attributes, String> {
        let resource: serde_json::Value =
            serde_json::from_str(&scim_resource).map_err(|e| format!("the resource is not JSON: {e}"))?;
        if !resource.is_object() {
            return Err("the resource is not a JSON object".into());
        }
        MAPPING.with(|cell| match &*cell.borrow() {
            Some(m) => Ok(m.to_attributes(&resource)),
            None => Err("the mapper is not configured".into()),
        })
    }
}

impl provisioner::Guest for Component {
    fn configure(config: String) -> Result<(), String> {
        let p = crate::provisioner::Provisioner::from_json(&config)?;
        PROVISIONER.with(|cell| *cell.borrow_mut() = Some(p));
        Ok(())
    }

    fn provision(service: String, attrs: provisioner::Attributes) -> provisioner::Report {
        let report = PROVISIONER.with(|cell| match &mut *cell.borrow_mut() {
            Some(p) => p.provision(&service, &attrs, &mut HostTransport),
            None => crate::provisioner::Report {
                outcome: crate::provisioner::Outcome::Failed,
                steps: vec![],
                error: Some("the provisioner is not configured".into()),
            },
        });
        report_out(report)
    }
}

/// The host's `transport`, seen through the provisioner's [`crate::provisioner::Transport`].
struct HostTransport;

impl crate::provisioner::Transport for HostTransport {
    fn send(&mut self, req: crate::http::Request) -> Result<crate::http::Response, String> {
        let req = transport::HttpRequest {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let resp = transport::send(&req)?;
        Ok(crate::http::Response { status: resp.status, headers: resp.headers, body: resp.body })
    }
}

fn report_out(r: crate::provisioner::Report) -> provisioner::Report {
    use crate::provisioner::{Action as A, Outcome as O};
    use provisioner::{Action, Outcome};
    let action = |a: A| match a {
        A::Search => Action::Search,
        A::Discover => Action::Discover,
        A::Create => Action::Create,
        A::Patch => Action::Patch,
        A::Replace => Action::Replace,
        A::Unchanged => Action::Unchanged,
        A::SearchGroup => Action::SearchGroup,
        A::ReadGroup => Action::ReadGroup,
        A::CreateGroup => Action::CreateGroup,
        A::AddMember => Action::AddMember,
        A::RemoveMember => Action::RemoveMember,
        A::Skipped => Action::Skipped,
    };
    provisioner::Report {
        outcome: match r.outcome {
            O::Created => Outcome::Created,
            O::Updated => Outcome::Updated,
            O::Unchanged => Outcome::Unchanged,
            O::Skipped => Outcome::Skipped,
            O::Failed => Outcome::Failed,
        },
        steps: r
            .steps
            .into_iter()
            .map(|s| provisioner::Step {
                action: action(s.action),
                method: s.method,
                path: s.path,
                status: s.status,
                detail: s.detail,
            })
            .collect(),
        error: r.error,
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    let t = clock::now();
    chrono::DateTime::from_timestamp(t.seconds, t.nanoseconds).unwrap_or_default()
}

/// The host's storage, seen through the engine's [`s::Store`] trait.
struct HostStore;

impl s::Store for HostStore {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> s::StoreResult<Option<s::Stored>> {
        Ok(w::get(resource_type, id, with_members).map_err(error)?.map(stored))
    }

    fn create(&mut self, resource_type: &str, data: &str, unique: &[s::UniqueKey], members: &[s::Member]) -> s::StoreResult<s::Stored> {
        let unique: Vec<w::UniqueKey> = unique.iter().map(unique_key).collect();
        let members: Vec<w::Member> = members.iter().map(member_out).collect();
        w::create(resource_type, data, &unique, &members).map(stored).map_err(error)
    }

    fn update(&mut self, c: &s::Update) -> s::StoreResult<s::Stored> {
        let change = w::ResourceChange {
            resource_type: c.resource_type.clone(),
            id: c.id.clone(),
            data: c.data.clone(),
            unique: c.unique.iter().map(unique_key).collect(),
            clear_members: c.clear_members,
            remove_members: c.remove_members.clone(),
            add_members: c.add_members.iter().map(member_out).collect(),
            if_version: c.if_version.clone(),
        };
        w::update(&change).map(stored).map_err(error)
    }

    fn delete(&mut self, resource_type: &str, id: &str, if_version: Option<&str>) -> s::StoreResult<()> {
        w::delete(resource_type, id, if_version).map_err(error)
    }

    fn search(&mut self, query: &s::Query) -> s::StoreResult<s::Page> {
        let q = q::Query {
            resource_type: query.resource_type.clone(),
            filter: query.filter.as_ref().map(|f| q::Filter { nodes: f.nodes.iter().map(node).collect(), root: f.root }),
            sort: query.sort.as_ref().map(|k| q::SortKey { path: k.path.clone(), descending: k.descending, case_exact: k.case_exact }),
            start_index: query.start_index,
            count: query.count,
            without_members: query.without_members,
        };
        let page = w::search(&q).map_err(error)?;
        Ok(s::Page {
            items: page.items.into_iter().map(stored).collect(),
            total: page.total,
            applied: match page.applied {
                w::Applied::Everything => s::Applied::Everything,
                w::Applied::FilterOnly => s::Applied::FilterOnly,
                w::Applied::Nothing => s::Applied::Nothing,
            },
        })
    }

    fn members(&mut self, resource_type: &str, id: &str, start_index: u32, count: u32) -> s::StoreResult<Vec<s::Member>> {
        Ok(w::members(resource_type, id, start_index, count).map_err(error)?.into_iter().map(member_in).collect())
    }

    fn resolve_principal(&mut self, principal: &str) -> s::StoreResult<Option<(String, String)>> {
        w::resolve_principal(principal).map_err(error)
    }
}

fn error(e: w::StorageError) -> s::StoreError {
    match e {
        w::StorageError::NotFound => s::StoreError::NotFound,
        w::StorageError::Conflict(a) => s::StoreError::Conflict(a),
        w::StorageError::PreconditionFailed => s::StoreError::PreconditionFailed,
        w::StorageError::Unsupported => s::StoreError::Unsupported,
        w::StorageError::Unavailable(m) => s::StoreError::Unavailable(m),
        w::StorageError::Other(m) => s::StoreError::Other(m),
    }
}

fn stored(x: w::Stored) -> s::Stored {
    s::Stored { id: x.id, version: x.version, data: x.data, members: x.members.map(|m| m.into_iter().map(member_in).collect()) }
}

fn unique_key(k: &s::UniqueKey) -> w::UniqueKey {
    w::UniqueKey { attribute: k.attribute.clone(), value: k.value.clone() }
}

fn member_out(m: &s::Member) -> w::Member {
    w::Member { value: m.value.clone(), kind: m.kind.clone(), display: m.display.clone() }
}

fn member_in(m: w::Member) -> s::Member {
    s::Member { value: m.value, kind: m.kind, display: m.display }
}

fn node(n: &s::FilterNode) -> q::FilterNode {
    match n {
        s::FilterNode::AllOf(c) => q::FilterNode::AllOf(c.clone()),
        s::FilterNode::AnyOf(c) => q::FilterNode::AnyOf(c.clone()),
        s::FilterNode::Negate(c) => q::FilterNode::Negate(*c),
        s::FilterNode::Present(p) => q::FilterNode::Present(p.clone()),
        s::FilterNode::ElementMatch(p, c) => q::FilterNode::ElementMatch((p.clone(), *c)),
        s::FilterNode::Compare(c) => q::FilterNode::Compare(q::Comparison {
            path: c.path.clone(),
            op: match c.op {
                s::CompareOp::Eq => q::CompareOp::Eq,
                s::CompareOp::Ne => q::CompareOp::Ne,
                s::CompareOp::Co => q::CompareOp::Co,
                s::CompareOp::Sw => q::CompareOp::Sw,
                s::CompareOp::Ew => q::CompareOp::Ew,
                s::CompareOp::Gt => q::CompareOp::Gt,
                s::CompareOp::Ge => q::CompareOp::Ge,
                s::CompareOp::Lt => q::CompareOp::Lt,
                s::CompareOp::Le => q::CompareOp::Le,
            },
            value: match &c.value {
                s::Literal::Null => q::Literal::Null,
                s::Literal::Boolean(b) => q::Literal::Boolean(*b),
                s::Literal::Integer(i) => q::Literal::Integer(*i),
                s::Literal::Decimal(d) => q::Literal::Decimal(*d),
                s::Literal::Text(t) => q::Literal::Text(t.clone()),
                s::Literal::DateTime(t) => q::Literal::DateTime(t.clone()),
            },
            case_exact: c.case_exact,
        }),
    }
}
