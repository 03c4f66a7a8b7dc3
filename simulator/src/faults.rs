//! Armed faults: errors only Facebook produces on its own (throttling, people who cannot be
//! reached, lost permissions, transient failures), answered on demand in place of a Graph
//! call for a Page, a PSID, or the next N calls (`POST /_sim/faults`).
//!
//! Each code's wording, type and headers follow Meta's pages:
//! - throttling, `X-App-Usage` and `X-Business-Use-Case-Usage` (with
//!   `estimated_time_to_regain_access`, in minutes): Graph API "Rate Limits",
//!   <https://developers.facebook.com/docs/graph-api/overview/rate-limiting>;
//! - 551, 10/2018108, 200, 230, 2, 1200: Messenger Platform "Send API error codes",
//!   <https://developers.facebook.com/docs/messenger-platform/reference/send-api/error-codes>
//!   and "Common Error Codes",
//!   <https://developers.facebook.com/docs/messenger-platform/error-codes>;
//! - `is_transient` in the error body: Graph API "Handling Errors",
//!   <https://developers.facebook.com/docs/graph-api/guides/error-handling>.
//!
//! Where those pages are silent the simulator chooses, and says so: every fault answers
//! HTTP 400 unless told otherwise (Graph's usual status; the pages give none per code);
//! `is_transient` is true for the throttling codes, 2 and 1200 and false for the rest; code
//! 17 carries `X-App-Usage` like code 4; 613 carries no usage header.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::graph::error::GraphError;

/// Which kind of Graph call a fault answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// Every call (token checks aside: an armed fault never answers `/me`, so a Page can
    /// still be connected while a fault waits for its sends).
    #[default]
    Any,
    /// `POST /{page}/messages`, messages and sender actions.
    Send,
    /// The Conversations API: `/{page}/conversations`, `/{thread}`, `/{thread}/messages`, `/{mid}`.
    Conversations,
    /// The User Profile API, `GET /{psid}`.
    Profile,
}

/// What a test asks for (`POST /_sim/faults`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Graph error code: 4, 17, 32, 613, 80001, 80006 (any 80000-80014), 551, 10, 200, 230,
    /// 2, 1200, or any other (answered with a generic message).
    pub code: u32,
    /// Error subcode; each code has a documented default (551: 1545041, 10: 2018108...).
    pub subcode: Option<u32>,
    /// Only calls made with this Page's token.
    pub page_id: Option<String>,
    /// Only calls about this person: Send API recipient, or the profile asked for.
    pub psid: Option<String>,
    /// Only this kind of call.
    #[serde(default)]
    pub surface: Surface,
    /// Answer this many matching calls, then disarm; absent: until `DELETE /_sim/faults`.
    pub times: Option<u32>,
    /// Minutes, in `X-Business-Use-Case-Usage` (BUC codes and 32). Default 0.
    pub estimated_time_to_regain_access: Option<u32>,
    /// Replaces the documented message.
    pub message: Option<String>,
    /// Replaces the default `is_transient`.
    pub is_transient: Option<bool>,
    /// Replaces HTTP 400.
    pub status: Option<u16>,
}

/// One armed fault, as `GET /_sim/faults` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Armed {
    /// Its id, for the record.
    pub id: u64,
    /// The error code it answers.
    pub code: u32,
    /// The subcode it answers.
    pub subcode: Option<u32>,
    /// Its Page, if limited to one.
    pub page_id: Option<String>,
    /// Its PSID, if limited to one.
    pub psid: Option<String>,
    /// Its kind of call.
    pub surface: Surface,
    /// Calls it will still answer (`None`: until cleared).
    pub remaining: Option<u32>,
    /// Calls it answered so far.
    pub answered: u32,
    #[serde(skip)]
    spec: FaultSpec,
}

/// One Graph call, as far as faults care.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The Page whose token made it.
    pub page_id: &'a str,
    /// The person it is about, if any.
    pub psid: Option<&'a str>,
    /// Its kind.
    pub surface: Surface,
}

/// The armed faults, in the order they were armed; the first that matches answers.
#[derive(Default)]
pub struct Faults {
    armed: Vec<Armed>,
    next_id: u64,
}

impl Faults {
    /// Arms a fault; refuses a status that is not an HTTP error or `times: 0`.
    pub fn arm(&mut self, spec: FaultSpec) -> Result<Armed, String> {
        if spec.times == Some(0) {
            return Err("times must be at least 1 (leave it out for a fault that stays)".into());
        }
        if let Some(status) = spec.status
            && !(400..=599).contains(&status)
        {
            return Err("status must be an HTTP error status (400-599)".into());
        }
        self.next_id += 1;
        let armed = Armed {
            id: self.next_id,
            code: spec.code,
            subcode: spec.subcode.or_else(|| default_subcode(spec.code)),
            page_id: spec.page_id.clone(),
            psid: spec.psid.clone(),
            surface: spec.surface,
            remaining: spec.times,
            answered: 0,
            spec,
        };
        self.armed.push(armed.clone());
        Ok(armed)
    }

    /// Every fault still armed.
    pub fn list(&self) -> Vec<Armed> {
        self.armed.clone()
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// The error for this call, if a fault is armed for it (counting it down).
    pub fn take(&mut self, call: Call<'_>) -> Option<GraphError> {
        let index = self.armed.iter().position(|f| f.matches(call))?;
        let fault = self.armed.get_mut(index)?;
        fault.answered += 1;
        let error = error_for(&fault.spec, call.page_id);
        if let Some(remaining) = &mut fault.remaining {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.armed.remove(index);
            }
        }
        Some(error)
    }
}

impl Armed {
    fn matches(&self, call: Call<'_>) -> bool {
        let page = self.page_id.as_deref().is_none_or(|p| p == call.page_id);
        let psid = self.psid.as_deref().is_none_or(|p| call.psid == Some(p));
        let surface = self.surface == Surface::Any || self.surface == call.surface;
        page && psid && surface
    }
}

/// The documented subcode a code comes with when the test names none.
fn default_subcode(code: u32) -> Option<u32> {
    match code {
        551 => Some(1_545_041),
        10 => Some(2_018_108),
        _ => None,
    }
}

/// The `type` of a Business Use Case rate limit, by its error code (rate-limiting page,
/// "Business Use Case Rate Limits" table).
fn buc_type(code: u32) -> Option<&'static str> {
    Some(match code {
        80000 => "ads_insights",
        80001 => "pages",
        80002 => "instagram",
        80003 => "custom_audience",
        80004 => "ads_management",
        80005 => "leadgen",
        80006 => "messenger",
        80008 => "whatsapp_business_management",
        80009 => "catalog_management",
        80014 => "catalog_batch",
        _ => return None,
    })
}

/// Whether Graph counts `code` as throttling (rate-limiting page: 4, 17, 32, 613 and the
/// Business Use Case codes 80000-80014).
pub fn is_throttling(code: u32) -> bool {
    matches!(code, 4 | 17 | 32 | 613) || (80_000..=80_014).contains(&code)
}

/// The documented message of `code`; every one of them is an `OAuthException`.
fn documented(code: u32, subcode: Option<u32>) -> String {
    match (code, subcode) {
        (4, _) => "(#4) Application request limit reached".to_owned(),
        (17, _) => "(#17) User request limit reached".to_owned(),
        (32, _) => "(#32) Page request limit reached".to_owned(),
        (613, _) => "(#613) Calls to this api have exceeded the rate limit.".to_owned(),
        (80_001, _) => "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.".to_owned(),
        (80_006, _) => "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.".to_owned(),
        (c, _) if buc_type(c).is_some() => format!("(#{c}) There have been too many calls from this ad-account or business. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."),
        (551, _) => "(#551) This person isn't available right now.".to_owned(),
        (10, Some(2_018_108)) => "(#10) This person isn't receiving messages from you right now.".to_owned(),
        (10, _) => "(#10) Application does not have permission for this action".to_owned(),
        (200, _) => "(#200) The user hasn't authorized the application to perform this action".to_owned(),
        (230, _) => "(#230) Requires pages_messaging permission to manage the object".to_owned(),
        (2, _) => "An unexpected error has occurred. Please retry your request later.".to_owned(),
        (1200, _) => "Temporary send message failure. Please try again later".to_owned(),
        (c, _) => format!("(#{c}) Simulated error"),
    }
}

fn error_for(spec: &FaultSpec, page_id: &str) -> GraphError {
    let subcode = spec.subcode.or_else(|| default_subcode(spec.code));
    let text = documented(spec.code, subcode);
    let transient = spec
        .is_transient
        .unwrap_or_else(|| is_throttling(spec.code) || matches!(spec.code, 2 | 1200));
    let status = spec
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let mut error = GraphError::custom(
        status,
        spec.code,
        subcode,
        "OAuthException",
        spec.message.clone().unwrap_or(text),
    )
    .transient(transient);
    let regain = spec.estimated_time_to_regain_access.unwrap_or(0);
    if let Some(header) = usage_header(spec.code, page_id, regain) {
        error = error.with_header(header.0, header.1);
    }
    error
}

/// The usage header a throttling answer carries: `X-App-Usage` for the app- and user-level
/// limits (4, 17), `X-Business-Use-Case-Usage` for the Business Use Case codes and the Page
/// limit (32), each at 100% of the call count.
pub fn usage_header(
    code: u32,
    page_id: &str,
    regain_minutes: u32,
) -> Option<(&'static str, String)> {
    let buc = |kind: &str| {
        json!({ page_id: [{
            "type": kind,
            "call_count": 100,
            "total_cputime": 12,
            "total_time": 21,
            "estimated_time_to_regain_access": regain_minutes,
        }]})
        .to_string()
    };
    match code {
        4 | 17 => Some((
            "x-app-usage",
            json!({ "call_count": 100, "total_cputime": 12, "total_time": 21 }).to_string(),
        )),
        32 => Some(("x-business-use-case-usage", buc("pages"))),
        c => buc_type(c).map(|kind| ("x-business-use-case-usage", buc(kind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(page: &str, psid: Option<&str>, surface: Surface) -> Call<'static> {
        let page: &'static str = Box::leak(page.to_owned().into_boxed_str());
        let psid = psid.map(|p| &*Box::leak(p.to_owned().into_boxed_str()));
        Call {
            page_id: page,
            psid,
            surface,
        }
    }

    #[test]
    fn a_fault_for_the_next_n_calls_answers_n_then_disarms() {
        let mut faults = Faults::default();
        faults
            .arm(FaultSpec {
                code: 80006,
                times: Some(2),
                estimated_time_to_regain_access: Some(3),
                ..FaultSpec::default()
            })
            .unwrap();
        let first = faults
            .take(call("1", None, Surface::Conversations))
            .unwrap();
        assert_eq!(first.code, 80006);
        assert_eq!(first.is_transient, Some(true));
        let (name, value) = &first.headers[0];
        assert_eq!(*name, "x-business-use-case-usage");
        let usage: serde_json::Value = serde_json::from_str(value).unwrap();
        assert_eq!(usage["1"][0]["type"], "messenger");
        assert_eq!(usage["1"][0]["estimated_time_to_regain_access"], 3);
        assert!(faults.take(call("2", None, Surface::Send)).is_some());
        assert!(faults.take(call("1", None, Surface::Send)).is_none());
        assert!(faults.list().is_empty());
    }

    #[test]
    fn faults_match_their_page_psid_and_surface_only() {
        let mut faults = Faults::default();
        faults
            .arm(FaultSpec {
                code: 551,
                psid: Some("p1".into()),
                surface: Surface::Send,
                ..FaultSpec::default()
            })
            .unwrap();
        faults
            .arm(FaultSpec {
                code: 230,
                page_id: Some("pg2".into()),
                ..FaultSpec::default()
            })
            .unwrap();
        assert!(
            faults
                .take(call("pg1", Some("p2"), Surface::Send))
                .is_none()
        );
        assert!(
            faults
                .take(call("pg1", Some("p1"), Surface::Profile))
                .is_none()
        );
        let unavailable = faults.take(call("pg1", Some("p1"), Surface::Send)).unwrap();
        assert_eq!(
            (unavailable.code, unavailable.subcode),
            (551, Some(1_545_041))
        );
        assert_eq!(unavailable.is_transient, Some(false));
        let again = faults.take(call("pg1", Some("p1"), Surface::Send)).unwrap();
        assert_eq!(again.code, 551, "without times a fault stays armed");
        let permission = faults
            .take(call("pg2", None, Surface::Conversations))
            .unwrap();
        assert_eq!(permission.code, 230);
        assert!(permission.headers.is_empty());
    }

    #[test]
    fn each_throttling_code_carries_its_usage_header() {
        assert_eq!(usage_header(4, "1", 0).unwrap().0, "x-app-usage");
        assert_eq!(usage_header(17, "1", 0).unwrap().0, "x-app-usage");
        for code in [32, 80001, 80006] {
            assert_eq!(
                usage_header(code, "1", 0).unwrap().0,
                "x-business-use-case-usage"
            );
        }
        assert!(usage_header(613, "1", 0).is_none());
        assert!(usage_header(551, "1", 0).is_none());
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut faults = Faults::default();
        assert!(
            faults
                .arm(FaultSpec {
                    code: 2,
                    times: Some(0),
                    ..FaultSpec::default()
                })
                .is_err()
        );
        assert!(
            faults
                .arm(FaultSpec {
                    code: 2,
                    status: Some(200),
                    ..FaultSpec::default()
                })
                .is_err()
        );
    }
}
