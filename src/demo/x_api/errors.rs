//! Errors as X API v2 gives them: `invalid-request` 400s naming each bad
//! parameter, and `resource-not-found` problems beside data.

use super::*;

// ---------------------------------------------------------------- errors

/// One entry of an `invalid-request` problem.
#[derive(Debug, Serialize)]
pub(super) struct ParamError {
    pub(super) parameters: BTreeMap<String, Vec<String>>,
    pub(super) message: String,
}

impl ParamError {
    pub(super) fn new(parameter: &str, values: Vec<String>, message: String) -> Self {
        ParamError {
            parameters: BTreeMap::from([(parameter.to_string(), values)]),
            message,
        }
    }
}

/// A 400 `invalid-request` problem with one error per bad parameter.
#[derive(Debug, Serialize)]
pub struct InvalidRequest {
    pub(super) errors: Vec<ParamError>,
    pub(super) title: &'static str,
    pub(super) detail: &'static str,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
}

impl InvalidRequest {
    pub(super) fn new(errors: Vec<ParamError>) -> Self {
        InvalidRequest {
            errors,
            title: "Invalid Request",
            detail: "One or more parameters to your request was invalid.",
            kind: INVALID_REQUEST,
        }
    }
}

impl IntoResponse for InvalidRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(self)).into_response()
    }
}

/// The bare problem body of 401, 429 and 500 answers.
#[derive(Serialize)]
pub(super) struct Problem {
    pub(super) title: &'static str,
    pub(super) detail: &'static str,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) status: u16,
}

pub(super) fn problem(status: StatusCode, title: &'static str) -> Response {
    let body = Problem {
        title,
        detail: title,
        kind: "about:blank",
        status: status.as_u16(),
    };
    (status, Json(body)).into_response()
}

/// A partial error: the Space is unknown, not created yet, ended or cancelled.
#[derive(Debug, Serialize)]
pub(super) struct NotFound {
    pub(super) value: String,
    pub(super) detail: String,
    pub(super) title: &'static str,
    pub(super) resource_type: &'static str,
    pub(super) parameter: &'static str,
    pub(super) resource_id: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
}

pub(super) fn not_found(id: &str, parameter: &'static str) -> NotFound {
    NotFound {
        value: id.to_string(),
        detail: format!("Could not find space with {parameter}: [{id}]."),
        title: "Not Found Error",
        resource_type: "space",
        parameter,
        resource_id: id.to_string(),
        kind: NOT_FOUND,
    }
}
