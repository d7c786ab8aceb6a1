//! The simulator's settings: portal, tokens, rate-limit profile, search lag, and a switch for
//! each behaviour the fact sheet leaves UNCONFIRMED (the stricter choice is the default).

use std::time::Duration;

/// A static bearer token (a private app's) and the app id its writes are recorded under.
#[derive(Debug, Clone)]
pub struct AppToken {
    pub token: String,
    pub app_id: u64,
}

/// The OAuth app whose refresh token `POST /oauth/v1/token` exchanges for access tokens.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub app_id: u64,
    /// Access-token lifetime (`expires_in`); HubSpot's is 30 minutes.
    pub access_token_ttl: Duration,
}

/// Request budgets. `None` for a budget means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateProfile {
    /// Requests per rolling 10 s window, per app (not per token: refreshes share it).
    pub per_ten_seconds: Option<u32>,
    /// Requests per day, per portal.
    pub daily: Option<u32>,
    /// Search requests per second, per portal.
    pub search_per_second: Option<u32>,
}

impl RateProfile {
    pub const FREE: RateProfile = RateProfile::of(100, 250_000);
    pub const STARTER: RateProfile = RateProfile::of(100, 250_000);
    pub const PROFESSIONAL: RateProfile = RateProfile::of(190, 625_000);
    pub const ENTERPRISE: RateProfile = RateProfile::of(190, 1_000_000);
    pub const UNLIMITED: RateProfile =
        RateProfile { per_ten_seconds: None, daily: None, search_per_second: None };

    pub const fn of(per_ten_seconds: u32, daily: u32) -> Self {
        RateProfile {
            per_ten_seconds: Some(per_ten_seconds),
            daily: Some(daily),
            search_per_second: Some(5),
        }
    }

    /// `free`, `starter`, `professional`, `enterprise`, `unlimited`, or `custom:BURST:DAILY`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "free" => Ok(Self::FREE),
            "starter" => Ok(Self::STARTER),
            "professional" => Ok(Self::PROFESSIONAL),
            "enterprise" => Ok(Self::ENTERPRISE),
            "unlimited" => Ok(Self::UNLIMITED),
            other => parse_custom(other).ok_or_else(|| {
                format!(
                    "unknown profile `{other}`: expected free, starter, professional, \
                     enterprise, unlimited or custom:BURST:DAILY"
                )
            }),
        }
    }
}

fn parse_custom(text: &str) -> Option<RateProfile> {
    let mut parts = text.strip_prefix("custom:")?.split(':');
    let burst = parts.next()?.parse().ok()?;
    let daily = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(RateProfile::of(burst, daily))
}

/// Caps on a search request's filters.
#[derive(Debug, Clone, Copy)]
pub struct SearchCaps {
    pub groups: usize,
    pub filters_per_group: usize,
    pub filters_total: usize,
}

/// Behaviours the fact sheet marks UNCONFIRMED; each defaults to the stricter choice.
#[derive(Debug, Clone)]
pub struct Strictness {
    /// Current docs: 5 groups, 6 per group, 18 in all (an older changelog said 5/10/25).
    pub search_caps: SearchCaps,
    /// A `limit` over the maximum (search 200, list 100, list with history 50) is refused
    /// (400) rather than clamped.
    pub reject_oversized_limits: bool,
    /// Search requests also spend the 10-second and daily budgets.
    pub search_counts_toward_burst: bool,
    /// The same id twice in one batch is refused (400).
    pub reject_duplicate_batch_ids: bool,
    /// A batch create without per-input `objectWriteTraceId` fails as a whole.
    pub batch_create_all_or_nothing: bool,
    /// An archived record's unique values still conflict with a new record.
    pub archived_values_stay_unique: bool,
    /// Per-input `idProperty` on batch/update is refused for contacts' `email`.
    pub reject_email_id_property_on_batch_update: bool,
    /// Largest v4 association batch create / archive (third-party docs say 2,000).
    pub association_batch_limit: usize,
    /// `sorts` given as strings (`"-createdate"`, as the OpenAPI spec types them) are refused
    /// (400); the docs use `{propertyName, direction}` objects and the string form's
    /// meaning is unconfirmed. Off: a string names the property, a leading `-` descending.
    pub reject_string_sorts: bool,
    /// v4 association batch endpoints spend the 10-second budget, although the spec tags
    /// them exempt from it (`x-hubspot-rate-limit-exemptions: ten-secondly`). Off: they
    /// spend only the daily budget.
    pub association_batches_count_toward_burst: bool,
}

impl Default for Strictness {
    fn default() -> Self {
        Strictness {
            search_caps: SearchCaps { groups: 5, filters_per_group: 6, filters_total: 18 },
            reject_oversized_limits: true,
            search_counts_toward_burst: true,
            reject_duplicate_batch_ids: true,
            batch_create_all_or_nothing: true,
            archived_values_stay_unique: true,
            reject_email_id_property_on_batch_update: true,
            association_batch_limit: 100,
            reject_string_sorts: true,
            association_batches_count_toward_burst: true,
        }
    }
}

/// Everything the simulator is started with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub portal_id: u64,
    pub tokens: Vec<AppToken>,
    pub oauth: OAuthApp,
    pub rate: RateProfile,
    /// How long a change takes to become visible to search (sim-clock time).
    pub search_lag: Duration,
    /// Merges keep the primary's id instead of minting a new one (HubSpot's beta).
    pub merge_keeps_primary_id: bool,
    pub strict: Strictness,
    /// Seed for the simulator's random choices (webhook chaos, jitter).
    pub seed: u64,
    /// The developer API key (`hapikey`) the webhook settings API accepts.
    pub developer_api_key: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            portal_id: 62515,
            tokens: vec![AppToken { token: "sim-token".into(), app_id: 54321 }],
            oauth: OAuthApp {
                client_id: "sim-client-id".into(),
                client_secret: "sim-client-secret".into(),
                refresh_token: "sim-refresh-token".into(),
                // apart from the static tokens' ids (54321 and up), so no two apps share
                // a rate window or an echo source id
                app_id: 64321,
                access_token_ttl: Duration::from_secs(1800),
            },
            rate: RateProfile::PROFESSIONAL,
            search_lag: Duration::ZERO,
            merge_keeps_primary_id: false,
            strict: Strictness::default(),
            seed: 0x5eed,
            developer_api_key: "sim-developer-key".into(),
        }
    }
}

impl SimConfig {
    /// Replaces the accepted tokens; app ids count up from 54321 in the order given.
    pub fn with_tokens(mut self, tokens: impl IntoIterator<Item = String>) -> Self {
        self.tokens = tokens
            .into_iter()
            .zip(54321..)
            .map(|(token, app_id)| AppToken { token, app_id })
            .collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_by_name_and_custom_numbers() {
        assert_eq!(RateProfile::parse("professional").unwrap().daily, Some(625_000));
        let custom = RateProfile::parse("custom:10:1000").unwrap();
        assert_eq!((custom.per_ten_seconds, custom.daily), (Some(10), Some(1000)));
        assert!(RateProfile::parse("custom:10").is_err());
        assert!(RateProfile::parse("gold").is_err());
    }

    #[test]
    fn each_profile_has_hubspots_burst_daily_and_search_limits() {
        /// (profile, per 10 s, per day, searches per second)
        type Row = (&'static str, Option<u32>, Option<u32>, Option<u32>);
        let table: &[Row] = &[
            ("free", Some(100), Some(250_000), Some(5)),
            ("starter", Some(100), Some(250_000), Some(5)),
            ("professional", Some(190), Some(625_000), Some(5)),
            ("enterprise", Some(190), Some(1_000_000), Some(5)),
            ("custom:250:2000000", Some(250), Some(2_000_000), Some(5)),
            ("unlimited", None, None, None),
        ];
        for (name, burst, daily, search) in table {
            let profile = RateProfile::parse(name).unwrap();
            let got = (profile.per_ten_seconds, profile.daily, profile.search_per_second);
            assert_eq!(got, (*burst, *daily, *search), "profile {name}");
        }
    }
}
