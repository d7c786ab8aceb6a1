//! Fault injection for the simulators: error answers, delays and dropped connections,
//! chosen per endpoint pattern, by count or by fraction.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// What goes wrong.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, body and headers instead of serving the request.
    Respond { status: u16, body: serde_json::Value, headers: Vec<(String, String)> },
    /// Wait this long, then serve the request normally.
    Delay(Duration),
    /// Serve the request, then cut the connection partway through the body.
    DropMidBody,
    /// Answer with this status and these exact bytes (an HTML page from a proxy, truncated
    /// JSON) instead of serving the request.
    RespondRaw { status: u16, body: String, content_type: String },
    /// Serve the request (its effects happen), then answer with these exact bytes instead of
    /// the real body, under `status` when given (a 500 after the work was done), else the
    /// served status: an answer lost after the work was done.
    ServeThenRaw { body: String, status: Option<u16> },
}

/// How often a fault fires.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    /// The next `n` matching requests.
    Next(u32),
    /// Each matching request with this probability, until removed.
    Fraction(f64),
}

/// One injected fault: which requests it hits, what happens and how often.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// `None` matches every method.
    pub method: Option<String>,
    /// A path pattern where `*` matches any run of characters, e.g. `/crm/v3/objects/*/batch/*`.
    pub path: String,
    pub fault: Fault,
    pub trigger: Trigger,
}

impl FaultRule {
    pub fn new(path: impl Into<String>, fault: Fault, trigger: Trigger) -> Self {
        FaultRule { method: None, path: path.into(), fault, trigger }
    }

    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_uppercase());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && glob_match(&self.path, path)
    }
}

/// The active faults of one simulator. Clones share the same rules.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    inner: Arc<Mutex<PlanState>>,
}

#[derive(Debug)]
struct PlanState {
    rules: Vec<FaultRule>,
    rng: StdRng,
    fired: u64,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::seeded(0x5eed)
    }
}

impl FaultPlan {
    /// A plan whose fractional faults fire in a repeatable sequence.
    pub fn seeded(seed: u64) -> Self {
        let state = PlanState { rules: Vec::new(), rng: StdRng::seed_from_u64(seed), fired: 0 };
        FaultPlan { inner: Arc::new(Mutex::new(state)) }
    }

    pub fn add(&self, rule: FaultRule) {
        self.inner.lock().expect("fault lock").rules.push(rule);
    }

    pub fn clear(&self) {
        self.inner.lock().expect("fault lock").rules.clear();
    }

    /// The rules still active, in the order they were added.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.inner.lock().expect("fault lock").rules.clone()
    }

    /// How many faults have fired since the simulator started.
    pub fn fired(&self) -> u64 {
        self.inner.lock().expect("fault lock").fired
    }

    /// The fault for this request, if one fires; spends one use of a counted rule.
    pub fn pick(&self, method: &str, path: &str) -> Option<Fault> {
        let mut state = self.inner.lock().expect("fault lock");
        let PlanState { rules, rng, fired } = &mut *state;
        let index = rules.iter().position(|rule| {
            rule.matches(method, path)
                && match rule.trigger {
                    Trigger::Next(n) => n > 0,
                    Trigger::Fraction(p) => rng.random::<f64>() < p,
                }
        })?;
        let rule = &mut rules[index];
        let fault = rule.fault.clone();
        if let Trigger::Next(n) = &mut rule.trigger {
            *n -= 1;
            if *n == 0 {
                rules.remove(index);
            }
        }
        *fired += 1;
        Some(fault)
    }
}

/// Middleware that applies the plan before the request reaches its handler.
pub async fn inject(State(plan): State<FaultPlan>, request: Request, next: Next) -> Response {
    let fault = plan.pick(request.method().as_str(), request.uri().path());
    match fault {
        None => next.run(request).await,
        Some(Fault::Delay(pause)) => {
            tokio::time::sleep(pause).await;
            next.run(request).await
        }
        Some(Fault::Respond { status, body, headers }) => respond(status, body, headers),
        Some(Fault::DropMidBody) => drop_mid_body(next.run(request).await).await,
        Some(Fault::RespondRaw { status, body, content_type }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            raw(status, body, &content_type)
        }
        Some(Fault::ServeThenRaw { body, status }) => {
            let served = next.run(request).await;
            let status = status.and_then(|s| StatusCode::from_u16(s).ok());
            raw(status.unwrap_or(served.status()), body, "application/json")
        }
    }
}

/// An answer of exactly `body`, labelled `content_type`.
fn raw(status: StatusCode, body: String, content_type: &str) -> Response {
    let mut response = (status, body).into_response();
    let value = HeaderValue::try_from(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    response.headers_mut().insert(header::CONTENT_TYPE, value);
    response
}

fn respond(status: u16, body: serde_json::Value, headers: Vec<(String, String)>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Sends the head and the first half of the body, then fails the stream, which makes the
/// server abort the connection: the client sees a truncated body.
async fn drop_mid_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let full_length = bytes.len().max(2);
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected drop")),
    ];
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full_length));
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
}

/// `*` matches any run of characters, including `/`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = parts.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i == pieces.len() - 1;
        if last {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns_match_whole_paths() {
        assert!(glob_match(
            "/crm/v3/objects/*/batch/upsert",
            "/crm/v3/objects/contacts/batch/upsert"
        ));
        assert!(glob_match("*", "/anything"));
        assert!(glob_match("/a/*", "/a/b/c"));
        assert!(!glob_match("/a/*/c", "/a/b/d"));
        assert!(!glob_match("/a", "/a/b"));
    }

    #[test]
    fn a_counted_fault_fires_exactly_that_many_times() {
        let plan = FaultPlan::default();
        let fault = Fault::Delay(Duration::ZERO);
        plan.add(FaultRule::new("/x/*", fault, Trigger::Next(2)).method("post"));
        assert!(plan.pick("GET", "/x/1").is_none());
        assert!(plan.pick("POST", "/x/1").is_some());
        assert!(plan.pick("POST", "/x/2").is_some());
        assert!(plan.pick("POST", "/x/3").is_none());
        assert_eq!(plan.fired(), 2);
    }

    async fn serve(fault: Fault) -> (u16, String, String, u32) {
        use std::sync::atomic::{AtomicU32, Ordering};
        let served = Arc::new(AtomicU32::new(0));
        let plan = FaultPlan::default();
        plan.add(FaultRule::new("/x", fault, Trigger::Next(1)));
        let counter = served.clone();
        let handler = move || async move {
            counter.fetch_add(1, Ordering::SeqCst);
            axum::Json(serde_json::json!({"results": [1]}))
        };
        let app = axum::Router::new()
            .route("/x", axum::routing::post(handler))
            .layer(axum::middleware::from_fn_with_state(plan, inject));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let answer = reqwest::Client::new().post(format!("http://{address}/x")).send().await;
        let answer = answer.unwrap();
        let status = answer.status().as_u16();
        let kind = answer.headers()[header::CONTENT_TYPE].to_str().unwrap().to_string();
        let text = answer.text().await.unwrap();
        (status, kind, text, served.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_raw_fault_answers_exact_bytes_without_serving_the_request() {
        let page = "<html><body>Gateway says hi</body></html>".to_string();
        let fault =
            Fault::RespondRaw { status: 200, body: page.clone(), content_type: "text/html".into() };
        assert_eq!(serve(fault).await, (200, "text/html".into(), page, 0));
    }

    #[tokio::test]
    async fn a_serve_then_raw_fault_does_the_work_and_then_garbles_its_answer() {
        let fault = Fault::ServeThenRaw { body: "{\"results\": [".into(), status: None };
        let answer = serve(fault).await;
        assert_eq!(answer, (200, "application/json".into(), "{\"results\": [".into(), 1));
    }

    #[test]
    fn a_fractional_fault_fires_about_that_often() {
        let plan = FaultPlan::seeded(7);
        plan.add(FaultRule::new("*", Fault::DropMidBody, Trigger::Fraction(0.25)));
        let fired = (0..4000).filter(|_| plan.pick("GET", "/y").is_some()).count();
        assert!((800..1200).contains(&fired), "fired {fired} of 4000");
    }
}
