//! HTTP below the client library: raw request lines (which a client would normalise or refuse) and bodies
//! that the server may stop reading half way.

use crate::common::TOKEN;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A parsed reply: status, header lines (lower-cased names) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn parse(text: &str) -> Reply {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply { status, headers, body: body.to_string() }
}

/// Sends `GET <target>` exactly as written, with the right token, and reads the reply until the server
/// closes.
pub fn get_raw(port: u16, target: &str) -> Reply {
    let mut s = connect(port);
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse(&String::from_utf8_lossy(&out))
}

/// POSTs `len` bytes of `{"userName":"aaaa…"}`; see [`post_body`].
pub fn post_huge(port: u16, path: &str, len: usize) -> Reply {
    let mut body = b"{\"userName\":\"".to_vec();
    body.resize(len - 2, b'a');
    body.extend_from_slice(b"\"}");
    post_body(port, path, body)
}

/// POSTs `body` from a second thread while this one reads the reply, so that an early answer is seen even
/// when the server stops reading and closes.
pub fn post_body(port: u16, path: &str, body: Vec<u8>) -> Reply {
    let mut s = connect(port);
    let head = format!(
        "POST /scim/v2{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        for chunk in body.chunks(1 << 16) {
            if writer.write_all(chunk).is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    parse(&String::from_utf8_lossy(&out))
}
