//! The provisioning client (the WIT `provisioner`): a principal's directory attributes in, the minimal SCIM
//! requests out, through a [`Transport`] the host provides. Idempotent: when the target already holds what
//! the mapping yields, the only request is the search.

mod diff;
mod groups;
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

/// The configured services, and what was learnt of their targets.
pub struct Provisioner {
    services: BTreeMap<String, Service>,
    /// Per service: does its target take PATCH (from `/ServiceProviderConfig`, asked once)?
    patch_support: BTreeMap<String, bool>,
}

impl Provisioner {
    pub fn from_json(text: &str) -> Result<Provisioner, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| format!("provisioner configuration: {e}"))?;
        let mut services = BTreeMap::new();
        for (name, s) in raw.services {
            let mapping = Mapping::from_value(s.mapping).map_err(|e| format!("services.{name}.{e}"))?;
            services.insert(name, Service { enabled: s.enabled, mapping, match_by: s.match_by, update: s.update });
        }
        Ok(Provisioner { services, patch_support: BTreeMap::new() })
    }

    /// Provisions one principal into one service's target. Never fails as a call: a failure is a report
    /// with `Outcome::Failed`, its reason, and the steps done before it.
    pub fn provision(&mut self, service: &str, attrs: &[Attr], transport: &mut dyn Transport) -> Report {
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
        let mut run = Run::new(transport, self.patch_support.get(service).copied());
        let result = run.provision(svc, attrs);
        if let Some(known) = run.patch_support {
            self.patch_support.insert(service.to_string(), known);
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
