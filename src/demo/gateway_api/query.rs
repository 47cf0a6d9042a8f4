//! Errors and query parsing of the demo gateway: every bad parameter is a 400 that
//! says which, as the reference does.

use super::*;

pub(super) type Params = HashMap<String, String>;
pub(super) type ApiResult = Result<Response, ApiError>;

// ---------------------------------------------------------------- errors

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

#[derive(Serialize)]
pub(super) struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

// ---------------------------------------------------------------- helpers

/// ISO 8601 UTC with milliseconds, e.g. `2024-10-01T12:05:00.000Z`.
pub fn ts(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

pub(super) fn params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
}

pub(super) fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|_| ApiError::not_found("not found"))
}

/// A parameter, with empty values treated as absent.
pub(super) fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

pub(super) fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match param(p, "limit") {
        None => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(0) => Err(ApiError::bad_request("limit must be at least 1")),
            Ok(n) => Ok(usize::try_from(n).unwrap_or(max).min(max)),
            Err(_) => Err(ApiError::bad_request(format!(
                "limit must be a positive integer, got {s:?}"
            ))),
        },
    }
}

pub(super) fn state_filter(p: &Params) -> Result<Option<State>, ApiError> {
    match param(p, "state") {
        None => Ok(None),
        Some(s) => State::parse(s).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "state must be one of live, scheduled, ended, cancelled; got {s:?}"
            ))
        }),
    }
}

pub(super) fn topic_filter(p: &Params) -> Result<Option<usize>, ApiError> {
    match param(p, "topic") {
        None => Ok(None),
        Some(s) => names::topic_by_id_or_name(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("unknown topic {s:?}"))),
    }
}

pub(super) fn bool_param(p: &Params, name: &str) -> Result<bool, ApiError> {
    match param(p, name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be true or false, got {other:?}"
        ))),
    }
}

/// A `from`/`to` bound: a date (whole day) or a datetime. Returns the
/// inclusive lower bound or the exclusive upper bound in Unix ms.
pub(super) fn time_bound(p: &Params, name: &str, upper: bool) -> Result<Option<i64>, ApiError> {
    let Some(raw) = param(p, name) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("{name} must be a date or ISO 8601 datetime"));
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let d = if upper {
            d.succ_opt().ok_or_else(bad)?
        } else {
            d
        };
        let ms = d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?
            .and_utc()
            .timestamp_millis();
        return Ok(Some(ms));
    }
    // A '+' in an unencoded query arrives as a space.
    let plus = raw.replace(' ', "+");
    let parsed = DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(&plus))
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S%.f",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
            .map(|d| d.and_utc().timestamp_millis())
            .ok_or(())
        })
        .map_err(|_| bad())?;
    Ok(Some(if upper { parsed + 1 } else { parsed }))
}

pub(super) fn lookup(shared: &Shared, id: &str, now: i64) -> Result<Space, ApiError> {
    shared
        .world
        .lookup(id, now)
        .ok_or_else(|| ApiError::not_found(format!("Space {id:?} not found")))
}

pub(super) fn json<T: Serialize>(body: T) -> ApiResult {
    Ok(Json(body).into_response())
}
