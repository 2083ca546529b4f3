//! The provisioning client (the WIT `provisioner`): a principal's directory attributes in, the minimal SCIM
//! requests out, through a [`Transport`] the host provides. Idempotent: when the target already holds what
//! the mapping yields, the only request is the search. [`Provisioner::prune`] completes a full reconciliation:
//! it deletes the target's Users that no principal yields.

mod diff;
mod groups;
mod listing;
mod prune;
mod run;
pub use run::encode;
#[cfg(test)]
mod tests;

use crate::http::{Request, Response};
use crate::mapper::{Attr, Mapping};
use run::Run;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Sends one request to the service's target; `Err` is a transport failure, not an HTTP status.
pub trait Transport {
    fn send(&mut self, req: Request) -> Result<Response, String>;
}

/// What a step did; see the WIT `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Search,
    Discover,
    Create,
    Patch,
    Replace,
    Unchanged,
    SearchGroup,
    ReadGroup,
    CreateGroup,
    AddMember,
    RemoveMember,
    Skipped,
    List,
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub action: Action,
    pub method: String,
    pub path: String,
    /// The HTTP status; none when no request was sent (or it failed in transport).
    pub status: Option<u16>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Skipped,
    /// Why: the mapping, the transport, or the target's answer.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub outcome: Outcome,
    pub steps: Vec<Step>,
}

/// How a User is found on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum MatchBy {
    #[default]
    #[serde(rename = "userName")]
    UserName,
    #[serde(rename = "externalId")]
    ExternalId,
}

impl MatchBy {
    fn attr(self) -> &'static str {
        match self {
            MatchBy::UserName => "userName",
            MatchBy::ExternalId => "externalId",
        }
    }
}

/// How a changed User is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Update {
    /// PATCH with the changed attributes only; PUT when the target says it has no PATCH.
    #[default]
    Patch,
    /// Always PUT the whole resource.
    Put,
}

pub struct Service {
    pub enabled: bool,
    pub mapping: Mapping,
    pub match_by: MatchBy,
    pub update: Update,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    services: BTreeMap<String, RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    enabled: bool,
    mapping: Value,
    #[serde(default, rename = "match")]
    match_by: MatchBy,
    #[serde(default)]
    update: Update,
}

/// What a target offers, from its `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    pub patch: bool,
    /// RFC 9865 `pagination.cursor`: lists are paged by cursor rather than by index.
    pub cursor: bool,
    /// RFC 9865 `pagination.maxPageSize`: no page is asked larger.
    pub max_page: Option<u32>,
}

/// The configured services, and what was learnt of their targets.
pub struct Provisioner {
    services: BTreeMap<String, Service>,
    /// Per service: what its target offers (asked once).
    abilities: BTreeMap<String, Abilities>,
}

impl Provisioner {
    pub fn from_json(text: &str) -> Result<Provisioner, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| format!("provisioner configuration: {e}"))?;
        let mut services = BTreeMap::new();
        for (name, s) in raw.services {
            let mapping = Mapping::from_value(s.mapping).map_err(|e| format!("services.{name}.{e}"))?;
            services.insert(name, Service { enabled: s.enabled, mapping, match_by: s.match_by, update: s.update });
        }
        Ok(Provisioner { services, abilities: BTreeMap::new() })
    }

    /// Provisions one principal into one service's target. Never fails as a call: a failure is a report
    /// with `Outcome::Failed`, its reason, and the steps done before it.
    pub fn provision(&mut self, service: &str, attrs: &[Attr], transport: &mut dyn Transport) -> Report {
        self.with_service(service, transport, |run, svc| run.provision(svc, attrs))
    }

    /// Deletes the target's Users that none of `principals` yields (matched by the service's match attribute).
    /// A principal the mapping fails on stops it before any request: its User must not be taken for a stray.
    pub fn prune(&mut self, service: &str, principals: &[Vec<Attr>], transport: &mut dyn Transport) -> Report {
        self.with_service(service, transport, |run, svc| {
            let attr = svc.match_by.attr();
            let keep = principals
                .iter()
                .enumerate()
                .map(|(i, attrs)| {
                    let user = svc.mapping.to_resources(attrs).map_err(|e| format!("principal {i}: {e}"))?;
                    let key = user.first().and_then(|u| u.get(attr)).and_then(Value::as_str);
                    key.map(str::to_string).ok_or_else(|| format!("principal {i}: the mapping gives no {attr}"))
                })
                .collect::<Result<Vec<_>, String>>()?;
            prune::prune(run, svc.match_by, &keep)
        })
    }

    /// Runs `work` for an enabled service, keeping what was learnt of its target.
    fn with_service(
        &mut self,
        service: &str,
        transport: &mut dyn Transport,
        work: impl FnOnce(&mut Run, &Service) -> Result<(), String>,
    ) -> Report {
        let Some(svc) = self.services.get(service) else {
            return failed(vec![], format!("no service {service:?} is configured"));
        };
        if !svc.enabled {
            let step = Step {
                action: Action::Skipped,
                method: String::new(),
                path: String::new(),
                status: None,
                detail: format!("provisioning is disabled for {service}"),
            };
            return Report { outcome: Outcome::Skipped, steps: vec![step] };
        }
        let mut run = Run::new(transport, self.abilities.get(service).copied());
        let result = work(&mut run, svc);
        if let Some(known) = run.abilities {
            self.abilities.insert(service.to_string(), known);
        }
        match result {
            Ok(()) => Report { outcome: run.outcome(), steps: run.steps },
            Err(e) => failed(run.steps, e),
        }
    }
}

fn failed(steps: Vec<Step>, error: String) -> Report {
    Report { outcome: Outcome::Failed(error), steps }
}
