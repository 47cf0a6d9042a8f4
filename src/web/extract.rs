//! Path and query extractors whose rejections are the site's own error pages.
//!
//! A path parameter that does not parse (a bad Space or user id) is a 404, as if the
//! page did not exist; a query that does not parse is a 400 that says which parameter.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::web::error::AppError;

pub struct SitePath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for SitePath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| SitePath(p.0))
            .map_err(|_| AppError::NotFound("page"))
    }
}

pub struct SiteQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for SiteQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = first_values(parts.uri.query().unwrap_or_default());
        let uri: axum::http::Uri = format!("/?{query}")
            .parse()
            .map_err(|_| AppError::BadRequest(query_problem("it is not a valid query")))?;
        Query::<T>::try_from_uri(&uri)
            .map(|q| SiteQuery(q.0))
            .map_err(|e| AppError::BadRequest(query_problem(&e.body_text())))
    }
}

/// The query with each parameter's first value only: a link that repeats one
/// (`?state=live&state=ended`, as forms and hand-edited URLs do) reads as its first,
/// the same way on every page, instead of failing.
pub fn first_values(query: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if seen.insert(key.clone()) {
            out.append_pair(&key, &value);
        }
    }
    out.finish()
}

/// serde's message names the parameter; keep that and drop the rest.
fn query_problem(detail: &str) -> String {
    let detail = detail
        .trim_start_matches("Failed to deserialize query string: ")
        .chars()
        .take(200)
        .collect::<String>();
    format!("The address has a query parameter we can't use: {detail}.")
}

/// Query values as forms send them: an empty or blank value is no value.
pub fn blank_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<String>::deserialize(d)?;
    Ok(v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// Parses an optional parameter, naming it in the error.
pub fn parse_param<T: FromStr>(name: &str, value: Option<&str>) -> Result<Option<T>, AppError> {
    value
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                let shown: String = v.chars().take(40).collect();
                AppError::BadRequest(format!("“{shown}” is not a valid value for {name}."))
            })
        })
        .transpose()
}

/// A checkbox or boolean-ish parameter.
pub fn parse_flag(name: &str, value: Option<&str>) -> Result<bool, AppError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(_) => Err(AppError::BadRequest(format!(
            "{name} must be true or false."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::first_values;

    #[test]
    fn a_repeated_parameter_keeps_its_first_value() {
        assert_eq!(
            first_values("q=a+b&state=live&state=ended&q=c"),
            "q=a+b&state=live"
        );
        assert_eq!(first_values(""), "");
    }
}
