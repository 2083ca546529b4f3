//! The provisioner's `transport` import: where its SCIM requests go. Each host brings its own [`Transport`]
//! (an HTTP client, a JVM callback, a test double).

use crate::bindings::{HttpRequest, HttpResponse, TransportError};

/// Sends one request below the target's SCIM base. `Err` is a transport failure, not an HTTP status.
pub trait Transport: Send {
    fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, TransportError>;
}
