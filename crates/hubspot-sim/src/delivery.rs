//! Webhook delivery: events gathered into JSON arrays of at most 100, signed (v1 and v3),
//! POSTed with a timeout, retried on any non-2xx or silence, with optional chaos.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng, seq::SliceRandom};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::SimState;
use super::signature::{sign_v1, sign_v3};
use super::webhooks::{Delivery, WebhookSettings};

/// Starts the delivery worker; it stops when `shutdown` fires.
pub fn spawn(state: SimState, shutdown: CancellationToken) {
    let (tx, rx) = mpsc::unbounded_channel();
    *state.webhooks.queue.lock().expect("webhook lock") = Some(tx);
    let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(state.webhooks.seed)));
    tokio::spawn(run(state, rx, rng, shutdown));
}

async fn run(
    state: SimState,
    mut rx: mpsc::UnboundedReceiver<Vec<Value>>,
    rng: Arc<Mutex<StdRng>>,
    shutdown: CancellationToken,
) {
    let client = sender();
    let mut limit: Option<(Arc<WebhookSettings>, Arc<Semaphore>)> = None;
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = rx.recv() => match next { Some(events) => events, None => return },
        };
        let Some(settings) = state.webhooks.current() else { continue };
        let events = gather(&mut rx, first, settings.linger).await;
        let permits = concurrency(&mut limit, &settings);
        for chunk in events.chunks(settings.max_batch.clamp(1, 100)) {
            let job = Job {
                state: state.clone(),
                client: client.clone(),
                settings: settings.clone(),
                rng: rng.clone(),
            };
            let permits = permits.clone();
            let events = chunk.to_vec();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else { return };
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = job.deliver(events) => {}
                }
            });
        }
    }
}

/// The HTTP client that POSTs events. It never follows redirects: HubSpot counts a 3xx
/// answer as a failed delivery and retries it.
fn sender() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client builds (as reqwest::Client::new() assumes)")
}

/// The semaphore bounding in-flight requests, renewed when the settings change.
fn concurrency(
    current: &mut Option<(Arc<WebhookSettings>, Arc<Semaphore>)>,
    settings: &Arc<WebhookSettings>,
) -> Arc<Semaphore> {
    match current {
        Some((known, permits)) if Arc::ptr_eq(known, settings) => permits.clone(),
        _ => {
            let permits = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
            *current = Some((settings.clone(), permits.clone()));
            permits
        }
    }
}

/// Collects whatever else arrives within `linger`.
async fn gather(
    rx: &mut mpsc::UnboundedReceiver<Vec<Value>>,
    mut events: Vec<Value>,
    linger: Duration,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + linger;
    while let Ok(Some(more)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        events.extend(more);
    }
    events
}

struct Job {
    state: SimState,
    client: reqwest::Client,
    settings: Arc<WebhookSettings>,
    rng: Arc<Mutex<StdRng>>,
}

impl Job {
    fn chance(&self, fraction: f64) -> bool {
        fraction > 0.0 && self.rng.lock().expect("rng lock").random::<f64>() < fraction
    }

    async fn deliver(self, mut events: Vec<Value>) {
        let chaos = &self.settings.chaos;
        if self.chance(chaos.out_of_order_fraction) {
            events.shuffle(&mut *self.rng.lock().expect("rng lock"));
            tokio::time::sleep(chaos.delay).await;
        } else if self.chance(chaos.delay_fraction) {
            tokio::time::sleep(chaos.delay).await;
        }
        let retries = self.settings.retry.delays.len() as u32;
        for attempt in 0..=retries {
            if self.attempt(&mut events, attempt, false).await {
                if self.chance(chaos.duplicate_fraction) {
                    self.attempt(&mut events, attempt, true).await;
                }
                return;
            }
            if let Some(pause) = self.backoff(attempt) {
                tokio::time::sleep(pause).await;
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Option<Duration> {
        let schedule = &self.settings.retry;
        let base = schedule.delays.get(attempt as usize)?.as_secs_f64() * schedule.scale;
        let spread = self.rng.lock().expect("rng lock").random_range(-1.0..=1.0) * schedule.jitter;
        Some(Duration::from_secs_f64((base * (1.0 + spread)).max(0.0)))
    }

    /// One POST; true when the receiver answered 2xx in time.
    async fn attempt(&self, events: &mut [Value], attempt: u32, duplicate: bool) -> bool {
        for event in events.iter_mut() {
            event["attemptNumber"] = attempt.into();
        }
        let body = serde_json::to_string(events).expect("events serialise");
        let status = self.post(&body).await;
        let delivery = Delivery {
            event_ids: events.iter().filter_map(|e| e["eventId"].as_u64()).collect(),
            attempt,
            status,
            duplicate,
            body,
        };
        self.state.webhooks.log.lock().expect("webhook lock").push(delivery);
        status.is_some_and(|s| (200..300).contains(&s))
    }

    async fn post(&self, body: &str) -> Option<u16> {
        let settings = &self.settings;
        let timestamp = self.state.clock.now_millis();
        let secret = &settings.client_secret;
        let url = &settings.target_url;
        let request = self
            .client
            .post(url)
            .timeout(settings.timeout)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon",
            )
            .header("x-hubspot-signature", sign_v1(secret, body.as_bytes()))
            .header("x-hubspot-signature-version", "v1")
            .header(
                "x-hubspot-signature-v3",
                sign_v3(secret, "POST", url, body.as_bytes(), &timestamp.to_string()),
            )
            .header("x-hubspot-request-timestamp", timestamp.to_string())
            .body(body.to_string());
        match request.send().await {
            Ok(response) => Some(response.status().as_u16()),
            Err(err) => {
                tracing::debug!(error = %err, "webhook delivery failed");
                None
            }
        }
    }
}
