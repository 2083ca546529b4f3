//! The registry of tolerances: every deviation from RFC 7643/7644 that the engine accepts because a real client
//! sends it. Each has a name (its configuration and metrics label), the request it accepts, the client it
//! serves, and a switch: the `tolerances` switch lists the enabled ones (all when absent). Where a tolerance
//! is applied, the engine records that it fired; [`Engine::handle`](crate::Engine::handle) reports them with
//! the response so that a host can count which clients need which tolerance.

use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeSet;

/// The response header naming, comma-separated, the tolerances a request used, when the `reportTolerances`
/// switch asks for it. Hosts remove it before answering.
pub const REPORT_HEADER: &str = "Scimkit-Tolerances";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tolerance {
    /// Booleans sent as strings. Entra ID sends, on POST and PATCH alike,
    /// `{"op":"Replace","path":"active","value":"False"}` and `"active": "True"`.
    BooleanString,
    /// A single value where the schema says multi-valued: `"emails": {"value": "a@b"}`, as directory
    /// synchronisation scripts built on generic HTTP clients send it; taken as a list of one.
    SingleValueAsList,
    /// A complex attribute sent as its bare value. Entra ID sends the enterprise manager as
    /// `{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915"}`;
    /// it is stored as `{"value": "26118915"}`.
    BareComplexValue,
    /// PATCH operation names in any case. Entra ID sends `{"op":"Replace",…}`, `"Add"` and `"Remove"`; RFC 7644
    /// §3.5.2 spells them in lower case.
    OperationNameCase,
    /// Read-only attributes echoed inside a no-path PATCH value, ignored. Okta renames a group with
    /// `{"op":"replace","value":{"id":"<group id>","displayName":"new name"}}`; RFC 7644 §3.5.2 answers
    /// `mutability`.
    EchoedReadOnly,
    /// A remove that lists the values to remove. Entra ID removes group members with
    /// `{"op":"Remove","path":"members","value":[{"value":"<member id>"}]}`; RFC 7644 §3.5.2.2 would remove them all.
    RemovalByValue,
    /// An add or replace on a filtered path that matches nothing creates the element the filter describes.
    /// Entra ID sends `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}` to a user without
    /// a work email and expects `{"type":"work","value":"x@y"}`; RFC 7644 §3.5.2.3 answers `noTarget`.
    CreateOnFilteredPath,
    /// A sub-attribute comparison after a value path's brackets. Entra ID sends
    /// `filter=emails[type eq "work"].value eq "a@b"`, outside the RFC 7644 §3.4.2.2 grammar; it is read as
    /// `emails[type eq "work" and value eq "a@b"]`.
    ElementFilterSuffix,
    /// Unquoted filter literals. Vendor test suites and some provisioning clients send `userName eq jdoe` and
    /// `meta.created gt 2015-10-10T14:38:21.8617979-07:00`; RFC 7644 §3.4.2.2 wants a JSON string.
    UnquotedFilterLiteral,
    /// A PATCH body without `schemas`. Clients built on older SCIM libraries send only `{"Operations":[…]}`;
    /// RFC 7644 §3.5.2 requires the PatchOp URN.
    PatchWithoutSchemas,
    /// Core attributes nested under the core schema URN, as extension attributes are:
    /// `{"urn:ietf:params:scim:schemas:core:2.0:User": {"userName": "bjensen"}}`, sent by vendor conformance
    /// collections; RFC 7643 §3 puts core attributes at the top level.
    CoreSchemaObject,
    /// A group member named by `$ref` alone. The CAS server's SCIM client sends
    /// `{"displayName":"students","members":[{"$ref":"2819c223"}]}`, and others a resource URL there; RFC 7643
    /// §4.2 names a member by `value`. The id is read from the `$ref` (its last path segment).
    MemberRefWithoutValue,
    /// The enterprise `manager` named without its schema URN. Entra ID sends `"manager": "26118915"` in a User
    /// body and `{"op":"replace","path":"manager","value":"26118915"}` in a PATCH; RFC 7643 §3.3 puts an
    /// extension's attributes under its URN, so both name
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager` (the bare id is then
    /// `bare-complex-value`). Only for a resource type with that extension and no `manager` of its own.
    UnqualifiedManager,
}

impl Tolerance {
    pub const ALL: [Tolerance; 13] = [
        Tolerance::BooleanString,
        Tolerance::SingleValueAsList,
        Tolerance::BareComplexValue,
        Tolerance::OperationNameCase,
        Tolerance::EchoedReadOnly,
        Tolerance::RemovalByValue,
        Tolerance::CreateOnFilteredPath,
        Tolerance::ElementFilterSuffix,
        Tolerance::UnquotedFilterLiteral,
        Tolerance::PatchWithoutSchemas,
        Tolerance::CoreSchemaObject,
        Tolerance::MemberRefWithoutValue,
        Tolerance::UnqualifiedManager,
    ];

    /// The name used in configuration and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Tolerance::BooleanString => "boolean-string",
            Tolerance::SingleValueAsList => "single-value-as-list",
            Tolerance::BareComplexValue => "bare-complex-value",
            Tolerance::OperationNameCase => "operation-name-case",
            Tolerance::EchoedReadOnly => "echoed-read-only",
            Tolerance::RemovalByValue => "removal-by-value",
            Tolerance::CreateOnFilteredPath => "create-on-filtered-path",
            Tolerance::ElementFilterSuffix => "element-filter-suffix",
            Tolerance::UnquotedFilterLiteral => "unquoted-filter-literal",
            Tolerance::PatchWithoutSchemas => "patch-without-schemas",
            Tolerance::CoreSchemaObject => "core-schema-object",
            Tolerance::MemberRefWithoutValue => "member-ref-without-value",
            Tolerance::UnqualifiedManager => "unqualified-manager",
        }
    }
}

/// The enabled tolerances of one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tolerances(BTreeSet<Tolerance>);

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances(Tolerance::ALL.into_iter().collect())
    }
}

impl<'de> Deserialize<'de> for Tolerances {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Tolerances(Vec::<Tolerance>::deserialize(d)?.into_iter().collect()))
    }
}

impl Tolerances {
    pub fn none() -> Self {
        Tolerances(BTreeSet::new())
    }

    /// Whether `t` is enabled, without recording anything (for parsers that decide later whether they use it).
    pub fn enabled(&self, t: Tolerance) -> bool {
        self.0.contains(&t)
    }

    /// Whether `t` is enabled; when it is, the current request records that it fired. Call it only where the
    /// request actually deviates.
    pub fn apply(&self, t: Tolerance) -> bool {
        let on = self.enabled(t);
        if on {
            record(t);
        }
        on
    }
}

/// Records that the request in progress used `t`.
pub fn record(t: Tolerance) {
    FIRED.with(|f| f.borrow_mut().insert(t));
}

thread_local! {
    /// The tolerances the request in progress used. An engine answers one request at a time per thread.
    static FIRED: RefCell<BTreeSet<Tolerance>> = const { RefCell::new(BTreeSet::new()) };
}

/// Forgets what earlier requests used.
pub fn reset() {
    FIRED.with(|f| f.borrow_mut().clear());
}

/// The tolerances used since the last [`reset`].
pub fn fired() -> BTreeSet<Tolerance> {
    FIRED.with(|f| f.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_configuration() {
        for t in Tolerance::ALL {
            let back: Tolerance = serde_json::from_value(serde_json::json!(t.name())).unwrap();
            assert_eq!(back, t);
        }
        assert!(serde_json::from_value::<Tolerances>(serde_json::json!(["no-such-tolerance"])).is_err());
    }

    #[test]
    fn only_enabled_tolerances_fire() {
        reset();
        let some: Tolerances = serde_json::from_value(serde_json::json!(["boolean-string"])).unwrap();
        assert!(some.apply(Tolerance::BooleanString));
        assert!(!some.apply(Tolerance::OperationNameCase));
        assert_eq!(fired(), BTreeSet::from([Tolerance::BooleanString]));
        reset();
        assert!(fired().is_empty());
    }
}
