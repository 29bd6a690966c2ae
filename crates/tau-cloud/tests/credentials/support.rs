//! A recording HTTP server on 127.0.0.1 that plays a credential endpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The body as `application/x-www-form-urlencoded` pairs, decoded, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        self.body
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect()
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

type Answer = dyn Fn(&Recorded) -> (u16, String) + Send + Sync;

pub struct Server {
    pub base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Serves every request with `answer`, recording it first.
    pub async fn start(
        answer: impl Fn(&Recorded) -> (u16, String) + Send + Sync + 'static,
    ) -> Server {
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let (log2, answer2) = (log.clone(), answer.clone());
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (log, answer) = (log2.clone(), answer2.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let rec = Recorded {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                        .collect(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                let (status, text) = answer(&rec);
                log.lock().unwrap().push(rec);
                axum::http::Response::builder()
                    .status(status)
                    .body(Body::from(text))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { base, log }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// The first request served, after checking that it was `method uri`.
    pub fn first_request(&self, method: &str, uri: &str) -> Recorded {
        let r = self.requests().into_iter().next().expect("a request");
        assert_eq!((r.method.as_str(), r.uri.as_str()), (method, uri));
        r
    }

    /// `host:port`, for variables that take no scheme.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

/// A loopback URL where nothing listens (the port was bound, then released).
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}
