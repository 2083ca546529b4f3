//! Versions (when announced): the ETag of a read, `If-None-Match` and a stale `If-Match`.

use super::{user, Suite};

const SECTION: &str = "RFC 7644 §3.14";

pub fn run(s: &mut Suite) {
    let names = ["etags: ETag and meta.version", "etags: If-None-Match", "etags: stale If-Match"];
    let why = match (&s.user, s.announced.etag) {
        (_, false) => Some("not announced: etag.supported is false"),
        (None, true) => Some("needs users: create"),
        (Some(_), true) => None,
    };
    if let Some(why) = why {
        return names.iter().for_each(|n| s.skip(n, SECTION, why));
    }
    let path = s.user.clone().unwrap_or_default();
    let etag = s.get(&path).and_then(|r| {
        r.status_in(&[200])?;
        let etag = r.header("ETag").ok_or("expected an ETag header on the read")?.to_string();
        match r.str("/meta/version") {
            Some(v) if v == etag => Ok(etag),
            other => Err(format!("expected meta.version equal to the ETag {etag}, saw {other:?}")),
        }
    });
    let Some(etag) = s.record(names[0], SECTION, etag) else {
        return names[1..].iter().for_each(|n| s.skip(n, SECTION, "needs an ETag"));
    };
    let r = s.call("GET", &path, None, &[("If-None-Match", &etag)]).and_then(|r| r.status_in(&[304]));
    s.record(names[1], SECTION, r);
    // The User as it is, so that only the version can fail the write.
    let r = s.get(&path).and_then(|r| {
        let body = user(r.str("/userName").unwrap_or_default());
        s.call("PUT", &path, Some(&body), &[("If-Match", "W/\"selftest-stale\"")])?.error(412, None)
    });
    s.record(names[2], SECTION, r);
}
