//! RFC 7644 §3.12 errors: one kind per `scimType`, each carrying its HTTP status.

use serde_json::json;
use std::fmt;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The reason for an error response; the `scimType` values are those of RFC 7644 §3.12 Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400 `invalidFilter`: the filter syntax is invalid or names an unknown attribute.
    InvalidFilter,
    /// 409 `uniqueness`: a value must be unique and is already taken.
    Uniqueness,
    /// 400 `mutability`: an attempt to change a readOnly or immutable attribute.
    Mutability,
    /// 400 `invalidSyntax`: the request body is not valid JSON or not a valid SCIM message.
    InvalidSyntax,
    /// 400 `invalidPath`: the PATCH path is invalid.
    InvalidPath,
    /// 400 `noTarget`: the PATCH path matched nothing.
    NoTarget,
    /// 400 `invalidValue`: a value is of the wrong type, missing while required, or not allowed.
    InvalidValue,
    /// 400 `tooMany`: the query would examine more resources than the configured ceiling.
    TooMany,
    /// 400 without `scimType`: any other bad request.
    BadRequest,
    /// 404: no such resource or endpoint.
    NotFound,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 409 without `scimType`: a conflicting change.
    Conflict,
    /// 412: `If-Match` does not match the current version.
    PreconditionFailed,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 500: an internal failure; the detail is generic, never a host's message.
    Internal,
    /// 501: the feature is not offered by this host.
    NotImplemented,
    /// 503: storage is temporarily unavailable.
    Unavailable,
    /// A status the host chose when refusing a write (`events.refusal`), without `scimType`.
    Refused(u16),
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            InvalidFilter | Mutability | InvalidSyntax | InvalidPath | NoTarget | InvalidValue | TooMany
            | BadRequest => 400,
            NotFound => 404,
            MethodNotAllowed => 405,
            Uniqueness | Conflict => 409,
            PreconditionFailed => 412,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            Internal => 500,
            NotImplemented => 501,
            Unavailable => 503,
            Refused(status) => status,
        }
    }

    pub fn scim_type(self) -> Option<&'static str> {
        use ErrorKind::*;
        Some(match self {
            InvalidFilter => "invalidFilter",
            Uniqueness => "uniqueness",
            Mutability => "mutability",
            InvalidSyntax => "invalidSyntax",
            InvalidPath => "invalidPath",
            NoTarget => "noTarget",
            InvalidValue => "invalidValue",
            TooMany => "tooMany",
            _ => return None,
        })
    }
}

/// An error on its way to becoming an RFC 7644 error response.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimError {
    pub kind: ErrorKind,
    pub detail: String,
}

pub type ScimResult<T> = Result<T, ScimError>;

impl ScimError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        ScimError { kind, detail: detail.into() }
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The RFC 7644 §3.12 body: `status` is a string, `scimType` only where defined.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.kind.scim_type() {
            body["scimType"] = json!(t);
        }
        body
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", self.status(), self.kind, self.detail)
    }
}

/// Shorthands used across the engine: `err::invalid_value("...")`.
macro_rules! shorthand {
    ($($name:ident => $kind:ident),* $(,)?) => {
        $(pub fn $name(detail: impl Into<String>) -> ScimError { ScimError::new(ErrorKind::$kind, detail) })*
    };
}

shorthand! {
    invalid_filter => InvalidFilter,
    uniqueness => Uniqueness,
    mutability => Mutability,
    invalid_syntax => InvalidSyntax,
    invalid_path => InvalidPath,
    no_target => NoTarget,
    invalid_value => InvalidValue,
    too_many => TooMany,
    bad_request => BadRequest,
    not_found => NotFound,
    method_not_allowed => MethodNotAllowed,
    precondition_failed => PreconditionFailed,
    payload_too_large => PayloadTooLarge,
    unsupported_media_type => UnsupportedMediaType,
    internal => Internal,
    not_implemented => NotImplemented,
    unavailable => Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_string_status_and_scim_type() {
        let e = uniqueness("userName \"bjensen\" is taken");
        let body = e.to_json();
        assert_eq!(body["status"], "409");
        assert_eq!(body["scimType"], "uniqueness");
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    }

    #[test]
    fn not_found_has_no_scim_type() {
        let body = not_found("no User 42").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }
}
