//! The client behind a trusted reverse proxy (`trusted_proxies`): `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` count only when the connection comes from a trusted proxy, and then the client is the
//! last address in the chain that is not itself a trusted proxy. Anyone else could write those headers.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The address allow-lists, throttling and the request log see for a connection from `peer`.
pub fn client(trusted: &[IpNet], peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&ip.to_canonical()));
    if !is_trusted(&peer.ip()) {
        return peer;
    }
    let chain = chain(headers);
    // From the nearest hop back: the first address not a trusted proxy; all trusted: the farthest one.
    let client = chain.iter().rev().find(|ip| !is_trusted(ip)).or(chain.first());
    client.map_or(peer, |ip| SocketAddr::new(*ip, peer.port()))
}

/// The forwarded addresses, farthest first; an address that does not parse ends the chain there, since
/// nothing before it can be told apart from a forgery.
fn chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    let items: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        values("x-forwarded-for").into_iter().map(parse).collect()
    } else {
        forwarded
            .into_iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    pair.trim().split_once('=').filter(|(k, _)| k.trim().eq_ignore_ascii_case("for")).map(|(_, v)| v)
                })
            })
            .map(|v| v.and_then(parse))
            .collect()
    };
    let trusted_tail = items.iter().rev().take_while(|ip| ip.is_some()).count();
    items[items.len() - trusted_tail..].iter().flatten().copied().collect()
}

/// `192.0.2.1`, `192.0.2.1:80`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| text.strip_prefix('[')?.split(']').next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.7:5000".parse().unwrap();
        let ip = |s: SocketAddr| s.ip().to_string();
        let xff = headers(&[("x-forwarded-for", "198.51.100.1, 192.0.2.9, 10.0.0.2")]);
        assert_eq!(ip(client(&trusted, proxy, &xff)), "192.0.2.9");
        assert_eq!(ip(client(&trusted, stranger, &xff)), "203.0.113.7");
        assert_eq!(ip(client(&[], proxy, &xff)), "10.0.0.1");
        let fwd = headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::1]:443\"")]);
        assert_eq!(ip(client(&trusted, proxy, &fwd)), "2001:db8::1");
        let junk = headers(&[("x-forwarded-for", "192.0.2.1, junk")]);
        assert_eq!(ip(client(&trusted, proxy, &junk)), "10.0.0.1");
        assert_eq!(ip(client(&trusted, proxy, &HeaderMap::new())), "10.0.0.1");
    }
}
