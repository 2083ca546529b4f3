//! The binding layer: the WIT world `engine` exported by this crate, and the imported storage adapted to
//! [`crate::store::Store`]. Nothing here decides anything about SCIM.

wit_bindgen::generate!({ path: "../wit", world: "engine" });

use crate::store as s;
use exports::scimkit::scim::{mapper, provider, provisioner, selftest};
use scimkit::scim::configuration::ConfigError;
use scimkit::scim::{clock, events as ev, query_types as q, storage as w, transport};
use std::cell::RefCell;

struct Component;
export!(Component);

impl provider::Guest for Component {
    type ServiceProvider = crate::Engine;
}

impl provider::GuestServiceProvider for crate::Engine {
    fn create(config: String) -> Result<provider::ServiceProvider, ConfigError> {
        json_object(&config)?;
        let engine = crate::Engine::new(&config).map_err(ConfigError::Invalid)?;
        Ok(provider::ServiceProvider::new(engine))
    }

    fn handle(&self, who: provider::Caller, req: provider::HttpRequest) -> provider::HttpResponse {
        let req = crate::http::Request {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let resp = self.handle_with_hooks(&mut HostStore, &mut HostHooks, now(), who.principal.as_deref(), &req);
        provider::HttpResponse { status: resp.status, headers: resp.headers, body: resp.body }
    }
}

/// Tells text that is not a JSON object (`not-json`) from a JSON object with a wrong setting (`invalid`).
fn json_object(text: &str) -> Result<(), ConfigError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(()),
        Ok(_) => Err(ConfigError::NotJson("the configuration is not a JSON object".into())),
        Err(e) => Err(ConfigError::NotJson(e.to_string())),
    }
}

impl mapper::Guest for Component {
    type Mapper = crate::mapper::Mapping;
}

impl mapper::GuestMapper for crate::mapper::Mapping {
    fn create(mapping: String) -> Result<mapper::Mapper, ConfigError> {
        json_object(&mapping)?;
        let m = crate::mapper::Mapping::from_json(&mapping).map_err(ConfigError::Invalid)?;
        Ok(mapper::Mapper::new(m))
    }

    fn to_resources(&self, attrs: mapper::Attributes) -> Result<Vec<String>, String> {
        Ok(self.to_resources(&attrs)?.iter().map(|r| r.to_string()).collect())
    }

    fn to_attributes(&self, scim_resource: String) -> Result<mapper::Attributes, String> {
        let resource: serde_json::Value =
            serde_json::from_str(&scim_resource).map_err(|e| format!("the resource is not JSON: {e}"))?;
        if !resource.is_object() {
            return Err("the resource is not a JSON object".into());
        }
        Ok(crate::mapper::Mapping::to_attributes(self, &resource))
    }
}

/// The provisioner remembers what it learnt of each target between calls, behind `&self`.
struct Provisioner(RefCell<crate::provisioner::Provisioner>);

impl provisioner::Guest for Component {
    type Provisioner = Provisioner;
}

impl provisioner::GuestProvisioner for Provisioner {
    fn create(config: String) -> Result<provisioner::Provisioner, ConfigError> {
        json_object(&config)?;
        let p = crate::provisioner::Provisioner::from_json(&config).map_err(ConfigError::Invalid)?;
        Ok(provisioner::Provisioner::new(Provisioner(RefCell::new(p))))
    }

    fn provision(&self, service: String, attrs: provisioner::Attributes) -> provisioner::Report {
        report_out(self.0.borrow_mut().provision(&service, &attrs, &mut HostTransport))
    }

    fn prune(&self, service: String, principals: Vec<provisioner::Attributes>) -> provisioner::Report {
        report_out(self.0.borrow_mut().prune(&service, &principals, &mut HostTransport))
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
        let resp = transport::send(&req).map_err(|e| match e {
            transport::TransportError::Unreachable(m) => format!("unreachable: {m}"),
            transport::TransportError::TimedOut => "timed out".to_string(),
            transport::TransportError::Broken(m) => format!("connection broken: {m}"),
        })?;
        Ok(crate::http::Response { status: resp.status, headers: resp.headers, body: resp.body })
    }
}

impl selftest::Guest for Component {
    fn run(tag: String) -> Vec<selftest::Check> {
        use crate::selftest::Verdict as V;
        let checks = crate::selftest::run(&mut HostTransport, &tag);
        checks
            .into_iter()
            .map(|c| selftest::Check {
                name: c.name,
                section: c.section,
                verdict: match c.verdict {
                    V::Passed => selftest::CheckVerdict::Passed,
                    V::Failed => selftest::CheckVerdict::Failed,
                    V::Skipped => selftest::CheckVerdict::Skipped,
                },
                detail: c.detail,
            })
            .collect()
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
        A::List => Action::List,
        A::Delete => Action::Delete,
    };
    provisioner::Report {
        outcome: match r.outcome {
            O::Created => Outcome::Created,
            O::Updated => Outcome::Updated,
            O::Unchanged => Outcome::Unchanged,
            O::Skipped => Outcome::Skipped,
            O::Failed(why) => Outcome::Failed(why),
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

    fn create(
        &mut self,
        resource_type: &str,
        data: &str,
        unique: &[s::UniqueKey],
        members: &[s::Member],
    ) -> s::StoreResult<s::Stored> {
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
            filter: query
                .filter
                .as_ref()
                .map(|f| q::Filter { nodes: f.nodes.iter().map(node).collect(), root: f.root }),
            sort: query.sort.as_ref().map(|k| q::SortKey {
                path: k.path.clone(),
                descending: k.descending,
                case_exact: k.case_exact,
            }),
            start_index: query.start_index,
            count: query.count,
            without_members: query.without_members,
            keyset: query.keyset.as_ref().map(|k| q::Keyset {
                after: k.after.as_ref().map(|a| q::Position { value: literal(&a.value), id: a.id.clone() }),
                count: k.count,
            }),
        };
        let page = w::search(&q).map_err(error)?;
        let (applied, total) = match page.applied {
            w::Applied::Everything(total) => (s::Applied::Everything, Some(total)),
            w::Applied::FilterOnly => (s::Applied::FilterOnly, None),
            w::Applied::Nothing => (s::Applied::Nothing, None),
            w::Applied::Keyset(total) => (s::Applied::Keyset, Some(total)),
        };
        Ok(s::Page { items: page.items.into_iter().map(stored).collect(), total, applied })
    }

    fn members(
        &mut self,
        resource_type: &str,
        id: &str,
        start_index: u32,
        count: u32,
    ) -> s::StoreResult<Vec<s::Member>> {
        Ok(w::members(resource_type, id, start_index, count).map_err(error)?.into_iter().map(member_in).collect())
    }

    fn resolve_principal(&mut self, principal: &str) -> s::StoreResult<Option<(String, String)>> {
        w::resolve_principal(principal).map_err(error)
    }

    fn ancestors(&mut self, resource_type: &str, ids: &[String], max_depth: u32) -> s::StoreResult<Vec<s::Ancestry>> {
        let found = w::ancestors(resource_type, ids, max_depth).map_err(error)?;
        Ok(found.into_iter().map(|a| s::Ancestry { member: a.member, group: a.group, depth: a.depth }).collect())
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
    s::Stored {
        id: x.id,
        version: x.version,
        data: x.data,
        members: x.members.map(|m| m.into_iter().map(member_in).collect()),
    }
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
            value: literal(&c.value),
            case_exact: c.case_exact,
        }),
    }
}

fn literal(l: &s::Literal) -> q::Literal {
    match l {
        s::Literal::Null => q::Literal::Null,
        s::Literal::Boolean(b) => q::Literal::Boolean(*b),
        s::Literal::Integer(i) => q::Literal::Integer(*i),
        s::Literal::Decimal(d) => q::Literal::Decimal(*d),
        s::Literal::Text(t) => q::Literal::Text(t.clone()),
        s::Literal::DateTime(t) => q::Literal::DateTime(t.clone()),
    }
}

/// The host's `events`, seen through the engine's [`crate::events::Hooks`].
struct HostHooks;

impl crate::events::Hooks for HostHooks {
    fn check(&mut self, change: &crate::events::ChangeEvent) -> crate::events::Verdict {
        use crate::events::{Refusal, Verdict};
        match ev::check(&change_out(change)) {
            ev::Verdict::Allow => Verdict::Allow,
            ev::Verdict::Adjust(body) => Verdict::Adjust(body),
            ev::Verdict::Refuse(r) => {
                Verdict::Refuse(Refusal { status: r.status, scim_type: r.scim_type, detail: r.detail })
            }
        }
    }

    fn stage(&mut self, change: &crate::events::ChangeEvent) {
        ev::stage(&change_out(change));
    }

    fn changed(&mut self, change: &crate::events::ChangeEvent, version: &str) {
        ev::changed(&change_out(change), version);
    }
}

fn change_out(c: &crate::events::ChangeEvent) -> ev::ChangeEvent {
    use crate::events::Operation as O;
    let operation = |o: &O| match o {
        O::Create => ev::Operation::Create,
        O::Replace => ev::Operation::Replace,
        O::Patch => ev::Operation::Patch,
        O::Delete => ev::Operation::Delete,
        O::MembersAdded => ev::Operation::MembersAdded,
        O::MembersRemoved => ev::Operation::MembersRemoved,
        O::Activated => ev::Operation::Activated,
        O::Deactivated => ev::Operation::Deactivated,
    };
    ev::ChangeEvent {
        resource_type: c.resource_type.clone(),
        id: c.id.clone(),
        operations: c.operations.iter().map(operation).collect(),
        paths: c.paths.clone(),
        before: c.before.clone(),
        after: c.after.clone(),
        members_added: c.members_added.clone(),
        members_removed: c.members_removed.clone(),
        members_cleared: c.members_cleared,
    }
}
