//! Fail points for crash tests: named places in the flow where a test build stops on
//! demand, so a harness can `kill -9` the daemon at exactly that moment.
//!
//! Only a build with the `failpoints` feature has them (the test kit turns it on for
//! `cargo test`; `cargo build --release` leaves them out), and only the variable
//! `HUBSYNC_FAILPOINTS` arms them: `name=action` pairs separated by `;`, for example
//! `HUBSYNC_FAILPOINTS='writer::after_api_ok_before_commit=pause'`. Actions:
//! - `pause`: print `fail point NAME reached: pausing` on stderr and wait forever;
//! - `abort`: print `fail point NAME reached: aborting` and abort the process at once.
//!
//! The points, in the flow's order: `ingest::before_commit`,
//! `ingest::after_commit_before_ack`, `poller::after_fetch_before_commit`,
//! `writer::before_api`, `writer::after_api_ok_before_commit`.

/// Stops here if the fail point `name` is armed; does nothing otherwise.
#[allow(clippy::unused_async)]
pub async fn hit(name: &'static str) {
    #[cfg(feature = "failpoints")]
    armed::hit(name).await;
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

#[cfg(feature = "failpoints")]
mod armed {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Action {
        Pause,
        Abort,
    }

    static POINTS: OnceLock<HashMap<String, Action>> = OnceLock::new();

    fn points() -> &'static HashMap<String, Action> {
        POINTS.get_or_init(|| {
            let spec = std::env::var("HUBSYNC_FAILPOINTS").unwrap_or_default();
            parse(&spec).unwrap_or_else(|bad| panic!("HUBSYNC_FAILPOINTS: {bad}"))
        })
    }

    fn parse(spec: &str) -> Result<HashMap<String, Action>, String> {
        let mut points = HashMap::new();
        for pair in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, action) =
                pair.split_once('=').ok_or_else(|| format!("`{pair}` is not name=action"))?;
            let action = match action.trim() {
                "pause" => Action::Pause,
                "abort" => Action::Abort,
                other => return Err(format!("unknown action `{other}` (pause, abort)")),
            };
            points.insert(name.trim().to_string(), action);
        }
        Ok(points)
    }

    pub async fn hit(name: &'static str) {
        match points().get(name) {
            None => {}
            Some(Action::Pause) => {
                eprintln!("fail point {name} reached: pausing");
                std::future::pending::<()>().await;
            }
            Some(Action::Abort) => {
                eprintln!("fail point {name} reached: aborting");
                std::process::abort();
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_spec_arms_each_named_point_with_its_action() {
            let points = parse("ingest::before_commit=pause; writer::before_api=abort").unwrap();
            assert_eq!(points["ingest::before_commit"], Action::Pause);
            assert_eq!(points["writer::before_api"], Action::Abort);
            assert!(parse("").unwrap().is_empty());
        }

        #[test]
        fn a_malformed_spec_names_the_bad_part() {
            assert!(parse("writer::before_api").unwrap_err().contains("name=action"));
            assert!(parse("a=explode").unwrap_err().contains("explode"));
        }
    }
}
