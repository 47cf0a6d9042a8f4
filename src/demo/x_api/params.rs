//! Query parameters as v2 reads them: allowed names only, field lists, id lists.

use super::*;

// ---------------------------------------------------------------- parameters

pub(super) type Params = BTreeMap<String, String>;

/// Parse the query string: every parameter must be one of `allowed` and
/// appear once; empty values are errors, as in v2.
pub(super) fn parse_query(raw: Option<&str>, allowed: &[&str]) -> Result<Params, InvalidRequest> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let k = k.into_owned();
        if !seen.contains_key(&k) {
            order.push(k.clone());
        }
        seen.entry(k).or_default().push(v.into_owned());
    }
    let mut errors = Vec::new();
    let mut out = Params::new();
    for k in order {
        let values = seen.remove(&k).unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            errors.push(ParamError::new(
                &k,
                values,
                format!(
                    "The query parameter [{k}] is not one of [{}]",
                    allowed.join(",")
                ),
            ));
        } else if values.len() > 1 {
            errors.push(ParamError::new(
                &k,
                values,
                format!("Duplicate parameters are not allowed: the `{k}` query parameter"),
            ));
        } else if values.first().is_none_or(|v| v.is_empty()) {
            errors.push(ParamError::new(
                &k,
                values,
                format!("The `{k}` query parameter can not be empty"),
            ));
        } else {
            out.insert(k, values.into_iter().next().unwrap_or_default());
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(InvalidRequest::new(errors))
    }
}

/// A comma-separated enum list, checked against `valid`.
pub(super) fn field_list(
    p: &Params,
    name: &str,
    valid: &[&'static str],
    errors: &mut Vec<ParamError>,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let Some(raw) = p.get(name) else {
        return out;
    };
    for item in raw.split(',') {
        match valid.iter().find(|v| **v == item) {
            Some(v) => {
                out.insert(*v);
            }
            None => errors.push(ParamError::new(
                name,
                vec![item.to_string()],
                format!(
                    "The `{name}` query parameter value [{item}] is not one of [{}]",
                    valid.join(",")
                ),
            )),
        }
    }
    out
}

/// What to render: the requested fields and expansions.
#[derive(Debug, Default)]
pub(super) struct Selection {
    pub(super) space: BTreeSet<&'static str>,
    pub(super) expansions: BTreeSet<&'static str>,
    pub(super) user: BTreeSet<&'static str>,
    pub(super) topic: BTreeSet<&'static str>,
}

impl Selection {
    pub(super) fn parse(p: &Params, errors: &mut Vec<ParamError>) -> Self {
        Selection {
            space: field_list(p, "space.fields", &SPACE_FIELDS, errors),
            expansions: field_list(p, "expansions", &EXPANSIONS, errors),
            user: field_list(p, "user.fields", &USER_FIELDS, errors),
            topic: field_list(p, "topic.fields", &TOPIC_FIELDS, errors),
        }
    }

    /// A Space field is present when asked for, or implied by its expansion.
    pub(super) fn wants(&self, field: &str) -> bool {
        self.space.contains(field) || self.expansions.contains(field)
    }
}

pub(super) fn is_space_id(s: &str) -> bool {
    (1..=13).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub(super) fn is_user_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A required comma-separated id list of 1..=100 well-formed ids,
/// de-duplicated in order.
pub(super) fn id_list(
    p: &Params,
    name: &str,
    well_formed: fn(&str) -> bool,
    pattern: &str,
    errors: &mut Vec<ParamError>,
) -> Vec<String> {
    let Some(raw) = p.get(name) else {
        errors.push(ParamError::new(
            name,
            Vec::new(),
            format!("The `{name}` query parameter can not be empty"),
        ));
        return Vec::new();
    };
    let items: Vec<&str> = raw.split(',').collect();
    if items.len() > MAX_IDS {
        errors.push(ParamError::new(
            name,
            vec![raw.clone()],
            format!(
                "The number of values in the `{name}` query parameter list [{}] is not between 1 and {MAX_IDS}",
                items.len()
            ),
        ));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !well_formed(item) {
            errors.push(ParamError::new(
                name,
                vec![item.to_string()],
                format!("The `{name}` query parameter value [{item}] does not match {pattern}"),
            ));
        } else if !out.iter().any(|x| x == item) {
            out.push(item.to_string());
        }
    }
    out
}

pub(super) fn finish<T>(value: T, errors: Vec<ParamError>) -> Result<T, InvalidRequest> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(InvalidRequest::new(errors))
    }
}
