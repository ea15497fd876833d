//! The query API (§6): paths, filtering, sorting, pagination, presentation,
//! and the response envelope in JSON and XML.

use std::cmp::Ordering;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::contact::Contact;
use crate::error::PocoError;
use crate::xml::{children_to_json, parse_tree, write_element};

/// Which contacts a request is about (§6.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// The base URL or `/@me/@all`: every contact of the user.
    #[default]
    All,
    /// `/@me/@all/{id}`: one contact.
    One(String),
    /// `/@me/@self`: the user's own contact.
    Myself,
}

/// A filter operator (§6.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// The value equals `filterValue` (case-insensitively).
    Equals,
    /// The value contains `filterValue` (case-insensitively).
    Contains,
    /// The value starts with `filterValue` (case-insensitively).
    StartsWith,
    /// The field has a non-empty value.
    Present,
}

/// A filter (`filterBy`, `filterOp`, `filterValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The field path (`displayName`, `emails`, `name.givenName`, `addresses.locality`).
    pub by: String,
    /// The operator; `None` when the requested operator is not supported, in
    /// which case the filter is declined (`"filtered": false`, §6.3.5).
    pub op: Option<FilterOp>,
    /// The value to compare with.
    pub value: String,
}

/// Response format (§6.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// JSON (the default).
    #[default]
    Json,
    /// XML.
    Xml,
}

/// A parsed Portable Contacts request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Which contacts.
    pub selection: Selection,
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// `updatedSince`, as given.
    pub updated_since: Option<String>,
    /// `sortBy`.
    pub sort_by: Option<String>,
    /// `sortOrder=descending`.
    pub descending: bool,
    /// Whether `sortOrder` had an unsupported value (sorting then declined).
    pub sort_order_unsupported: bool,
    /// `startIndex` (zero-based).
    pub start_index: usize,
    /// `count`; `None` when absent, `Some(0)` for "provider default".
    pub count: Option<usize>,
    /// `fields`; `None` for all (`@all`).
    pub fields: Option<Vec<String>>,
    /// `format`.
    pub format: Format,
}

/// Provider settings for applying queries.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ApplyConfig {
    /// Page size when `count` is absent or 0 (default 100).
    pub default_count: usize,
    /// Largest page served, whatever `count` asks (default 1000).
    pub max_count: usize,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        Self {
            default_count: 100,
            max_count: 1000,
        }
    }
}

fn bad(msg: impl Into<String>) -> PocoError {
    PocoError::BadRequest(msg.into())
}

impl Query {
    /// Parses a request: `path` is what follows the endpoint's base path
    /// (`""`, `/@me/@all`, `/@me/@all/42`, `/@me/@self`), `query` the query
    /// string. Unknown parameters are ignored (POCO-PRV-06).
    ///
    /// ```
    /// use ostatus_portable_contacts::{FilterOp, Query, Selection};
    ///
    /// let q = Query::parse("/@me/@all", Some("filterBy=displayName&filterOp=startswith&filterValue=Chr&count=10"))?;
    /// assert_eq!(q.selection, Selection::All);
    /// assert_eq!(q.filter.unwrap().op, Some(FilterOp::StartsWith));
    /// assert_eq!(q.count, Some(10));
    /// # Ok::<(), ostatus_portable_contacts::PocoError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PocoError::BadRequest`] for an unknown path, a non-numeric
    /// `startIndex`/`count`, an unknown `format`, or a filter without `filterBy`.
    pub fn parse(path: &str, query: Option<&str>) -> Result<Self, PocoError> {
        let mut q = Query {
            selection: parse_path(path)?,
            ..Query::default()
        };
        let mut filter_by = None;
        let mut filter_op = None;
        let mut filter_value = None;
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| bad(format!("parameter {k} is not valid UTF-8")))
            };
            let v = decode(v)?;
            match k {
                "filterBy" => filter_by = Some(v),
                "filterOp" => filter_op = Some(v),
                "filterValue" => filter_value = Some(v),
                "updatedSince" => q.updated_since = Some(v),
                "sortBy" => q.sort_by = Some(v),
                "sortOrder" => match v.as_str() {
                    "ascending" | "" => q.descending = false,
                    "descending" => q.descending = true,
                    _ => q.sort_order_unsupported = true,
                },
                "startIndex" => {
                    q.start_index = v
                        .parse()
                        .map_err(|_| bad(format!("startIndex {v:?} is not a non-negative integer")))?;
                }
                "count" => {
                    q.count = Some(
                        v.parse()
                            .map_err(|_| bad(format!("count {v:?} is not a non-negative integer")))?,
                    );
                }
                "fields" => {
                    let list: Vec<String> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    q.fields = if list.iter().any(|f| f == "@all") || list.is_empty() {
                        None
                    } else {
                        Some(list)
                    };
                }
                "format" => {
                    q.format = match v.as_str() {
                        "json" | "" => Format::Json,
                        "xml" => Format::Xml,
                        other => return Err(bad(format!("format {other:?} is not supported (json, xml)"))),
                    }
                }
                _ => {}
            }
        }
        match (filter_by, filter_op, filter_value) {
            (Some(by), op, value) => {
                let op = match op.as_deref().unwrap_or("equals") {
                    "equals" => Some(FilterOp::Equals),
                    "contains" => Some(FilterOp::Contains),
                    "startswith" => Some(FilterOp::StartsWith),
                    "present" => Some(FilterOp::Present),
                    _ => None,
                };
                q.filter = Some(Filter {
                    by,
                    op,
                    value: value.unwrap_or_default(),
                });
            }
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err(bad("filterOp/filterValue given without filterBy"));
            }
            (None, None, None) => {}
        }
        Ok(q)
    }

    /// Parses an `http::Request` whose path starts with `base` (the endpoint's
    /// base path, e.g. `/poco/alice`).
    ///
    /// # Errors
    ///
    /// As [`Query::parse`]; [`PocoError::BadRequest`] when the path is not under `base`.
    pub fn from_request<B>(req: &http::Request<B>, base: &str) -> Result<Self, PocoError> {
        let path = req.uri().path();
        let rest = path
            .strip_prefix(base.trim_end_matches('/'))
            .ok_or_else(|| bad(format!("path {path} is not under {base}")))?;
        Self::parse(rest, req.uri().query())
    }

    /// Applies the query to the user's contacts (and their own contact, for
    /// `@self`), producing the response (§6.4).
    ///
    /// # Errors
    ///
    /// [`PocoError::NotFound`] for an unknown contact id or a missing owner;
    /// [`PocoError::BadRequest`] for an unparseable `updatedSince`.
    pub fn apply(
        &self,
        contacts: impl IntoIterator<Item = Contact>,
        owner: Option<Contact>,
        config: ApplyConfig,
    ) -> Result<Response, PocoError> {
        match &self.selection {
            Selection::Myself => {
                let me = owner.ok_or_else(|| PocoError::NotFound("the user has no contact record".into()))?;
                return Ok(self.single(me));
            }
            Selection::One(id) => {
                let c = contacts
                    .into_iter()
                    .find(|c| c.id.as_deref() == Some(id.as_str()))
                    .ok_or_else(|| PocoError::NotFound(format!("no contact with id {id:?}")))?;
                return Ok(self.single(c));
            }
            Selection::All => {}
        }
        let mut list: Vec<Contact> = contacts.into_iter().collect();
        let mut resp = Response::default();
        if let Some(f) = &self.filter {
            match f.op {
                Some(op) => list.retain(|c| matches_filter(c, &f.by, op, &f.value)),
                None => resp.filtered = Some(false),
            }
        }
        if let Some(since) = &self.updated_since {
            let since = parse_datetime(since)
                .ok_or_else(|| bad(format!("updatedSince {since:?} is not an xs:dateTime")))?;
            list.retain(|c| {
                c.updated
                    .as_deref()
                    .and_then(parse_datetime)
                    .is_some_and(|u| u >= since)
            });
        }
        if let Some(by) = &self.sort_by {
            if self.sort_order_unsupported {
                resp.sorted = Some(false);
            } else {
                let keys: Vec<Option<String>> = list.iter().map(|c| sort_key(c, by)).collect();
                let mut idx: Vec<usize> = (0..list.len()).collect();
                idx.sort_by(|&a, &b| {
                    let (ka, kb) = (keys.get(a).cloned().flatten(), keys.get(b).cloned().flatten());
                    match (ka, kb) {
                        // Missing data sorts last, whatever the order (§6.3.2).
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Greater,
                        (Some(_), None) => Ordering::Less,
                        (Some(x), Some(y)) if self.descending => y.cmp(&x),
                        (Some(x), Some(y)) => x.cmp(&y),
                    }
                });
                let mut slots: Vec<Option<Contact>> = list.into_iter().map(Some).collect();
                list = idx
                    .into_iter()
                    .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                    .collect();
            }
        }
        resp.total_results = list.len();
        resp.start_index = self.start_index;
        let page = match self.count {
            None | Some(0) => config.default_count,
            Some(n) => n,
        }
        .min(config.max_count);
        let items: Vec<Contact> = list
            .into_iter()
            .skip(self.start_index)
            .take(page)
            .map(|c| self.project(c))
            .collect();
        // itemsPerPage is present iff count was given (POCO-PRV-12); it is
        // the page size served, which Appendix A shows is not the number of
        // entries on a last, short page.
        resp.items_per_page = self.count.map(|_| page);
        resp.entry = Entry::Many(items);
        Ok(resp)
    }

    fn single(&self, c: Contact) -> Response {
        Response {
            start_index: 0,
            items_per_page: None,
            total_results: 1,
            entry: Entry::One(Box::new(self.project(c))),
            ..Response::default()
        }
    }

    /// Keeps only the requested fields (always `id`).
    fn project(&self, c: Contact) -> Contact {
        let Some(fields) = &self.fields else { return c };
        let v = c.to_json_value();
        let mut m = Map::new();
        if let Value::Object(all) = v {
            for (k, v) in all {
                if k == "id" || fields.iter().any(|f| f == &k) {
                    m.insert(k, v);
                }
            }
        }
        Contact::from_json_value(&Value::Object(m)).unwrap_or(c)
    }
}

fn parse_path(path: &str) -> Result<Selection, PocoError> {
    let p = path.trim_end_matches('/');
    let segments: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] | ["@me"] | ["@me", "@all"] => Ok(Selection::All),
        ["@me", "@self"] => Ok(Selection::Myself),
        ["@me", "@all", id] => {
            let id = percent_decode_str(id)
                .decode_utf8()
                .map_err(|_| bad("the contact id is not valid UTF-8"))?;
            Ok(Selection::One(id.into_owned()))
        }
        _ => Err(bad(format!(
            "unknown path {path:?} (expected /@me/@all, /@me/@all/{{id}} or /@me/@self)"
        ))),
    }
}

/// The canonical name of a field path's first segment (`email` → `emails`:
/// the spec's own filter example uses the singular).
fn canonical_field(f: &str) -> &str {
    match f {
        "email" => "emails",
        "url" => "urls",
        "phoneNumber" => "phoneNumbers",
        "photo" => "photos",
        "im" => "ims",
        "tag" => "tags",
        "relationship" => "relationships",
        "address" => "addresses",
        "organization" => "organizations",
        "account" => "accounts",
        other => other,
    }
}

/// The primary sub-field of a complex field (§6.3.1).
fn primary_subfield(field: &str) -> &'static str {
    match field {
        "name" | "addresses" => "formatted",
        "organizations" => "name",
        "accounts" => "domain",
        _ => "value",
    }
}

/// All values of a field path in a contact, in order, the primary instance first.
fn field_values(c: &Contact, path: &str) -> Vec<String> {
    let (head, sub) = match path.split_once('.') {
        Some((h, s)) => (canonical_field(h), Some(s)),
        None => (canonical_field(path), None),
    };
    let json = c.to_json_value();
    let Some(v) = json.get(head) else {
        return Vec::new();
    };
    let sub = sub.unwrap_or_else(|| primary_subfield(head));
    let pick = |x: &Value| -> Option<String> {
        match x {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get(sub).and_then(Value::as_str).map(str::to_owned),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    match v {
        Value::Array(items) => {
            let primary = |x: &Value| x.get("primary").and_then(Value::as_str) == Some("true");
            let mut out: Vec<String> = items.iter().filter(|x| primary(x)).filter_map(pick).collect();
            out.extend(items.iter().filter(|x| !primary(x)).filter_map(pick));
            out
        }
        other => pick(other).into_iter().collect(),
    }
}

fn matches_filter(c: &Contact, by: &str, op: FilterOp, value: &str) -> bool {
    let needle = value.to_lowercase();
    // A plural field matches if any instance matches (§6.3.1).
    field_values(c, by).iter().any(|v| {
        let v = v.to_lowercase();
        match op {
            FilterOp::Equals => v == needle,
            FilterOp::Contains => v.contains(&needle),
            FilterOp::StartsWith => v.starts_with(&needle),
            FilterOp::Present => !v.trim().is_empty(),
        }
    })
}

/// The sort key: the primary value, else the first; case-insensitive.
fn sort_key(c: &Contact, by: &str) -> Option<String> {
    field_values(c, by).into_iter().next().map(|s| s.to_lowercase())
}

/// Parses an xs:dateTime (`2008-01-23T04:56:22Z`, fractions and offsets
/// allowed; no offset is read as UTC) into seconds since 1970.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (time, offset) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, o) = rest.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o.get(1..)?.split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    } else {
        (rest, 0)
    };
    let mut t = time.splitn(3, ':');
    let h: i64 = t.next()?.parse().ok()?;
    let mi: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t.next().map_or(Some(0.0), |x| x.parse::<f64>().ok())?.floor() as i64;
    if h > 24 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// The `entry` of a response: an array for collections, an object for
/// `@self` and single-contact requests (POCO-PRV-12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A collection (even of zero or one contacts).
    Many(Vec<Contact>),
    /// A single contact.
    One(Box<Contact>),
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Many(Vec::new())
    }
}

/// A response (§6.4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// `startIndex`.
    pub start_index: usize,
    /// `itemsPerPage`, present iff the request gave `count`.
    pub items_per_page: Option<usize>,
    /// `totalResults`.
    pub total_results: usize,
    /// `filtered: false` when the filter was declined (§6.3.5).
    pub filtered: Option<bool>,
    /// `sorted: false` when sorting was declined.
    pub sorted: Option<bool>,
    /// `updatedSince: false` when that was declined.
    pub updated_since: Option<bool>,
    /// The contacts.
    pub entry: Entry,
}

impl Response {
    /// The contacts, whether one or many.
    pub fn contacts(&self) -> Vec<&Contact> {
        match &self.entry {
            Entry::Many(v) => v.iter().collect(),
            Entry::One(c) => vec![c.as_ref()],
        }
    }

    /// The response as a JSON value.
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("startIndex".into(), Value::from(self.start_index));
        if let Some(n) = self.items_per_page {
            m.insert("itemsPerPage".into(), Value::from(n));
        }
        m.insert("totalResults".into(), Value::from(self.total_results));
        for (k, v) in [
            ("filtered", self.filtered),
            ("sorted", self.sorted),
            ("updatedSince", self.updated_since),
        ] {
            if let Some(b) = v {
                m.insert(k.into(), Value::Bool(b));
            }
        }
        m.insert(
            "entry".into(),
            match &self.entry {
                Entry::Many(v) => Value::Array(v.iter().map(Contact::to_json_value).collect()),
                Entry::One(c) => c.to_json_value(),
            },
        );
        Value::Object(m)
    }

    /// The response as indented JSON (two spaces, as Appendix A).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_json_value()).unwrap_or_default()
    }

    /// The response as XML (`<response>`, one space per level, as Appendix
    /// A). Fields whose names are not ASCII XML names are left out.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        write_element(&mut out, "response", &self.to_json_value(), 0);
        out
    }

    /// Reads a JSON response (a consumer's side, POCO-CON-02: `entry` may be
    /// an object or an array).
    ///
    /// # Errors
    ///
    /// [`PocoError::Json`] or [`PocoError::Invalid`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, PocoError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| PocoError::Json(e.to_string()))?;
        Self::from_json_value(&v)
    }

    /// Reads an XML response. A single `<entry>` is read as a collection of
    /// one (XML cannot tell the two apart).
    ///
    /// # Errors
    ///
    /// [`PocoError::Xml`] or [`PocoError::Invalid`].
    pub fn from_xml(bytes: &[u8]) -> Result<Self, PocoError> {
        let root = parse_tree(bytes)?;
        if root.local != "response" {
            return Err(PocoError::Invalid(format!(
                "poco: root element is {:?}, expected response",
                root.local
            )));
        }
        let mut m = children_to_json(&root, false);
        let entries: Vec<Value> = root
            .children
            .iter()
            .filter(|c| c.local == "entry")
            .map(|c| Value::Object(children_to_json(c, true)))
            .collect();
        m.insert("entry".into(), Value::Array(entries));
        Self::from_json_value(&Value::Object(m))
    }

    fn from_json_value(v: &Value) -> Result<Self, PocoError> {
        let m = v
            .as_object()
            .ok_or_else(|| PocoError::Invalid("poco: the response is not an object".into()))?;
        let num = |k: &str| -> Result<Option<usize>, PocoError> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| PocoError::Invalid(format!("poco: {k} is not a count"))),
                Some(Value::String(s)) => s
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| PocoError::Invalid(format!("poco: {k} is not a count"))),
                Some(_) => Err(PocoError::Invalid(format!("poco: {k} is not a count"))),
            }
        };
        let flag = |k: &str| match m.get(k) {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => Some(s == "true"),
            _ => None,
        };
        let entry = match m.get("entry") {
            None | Some(Value::Null) => Entry::Many(Vec::new()),
            Some(Value::Array(a)) => {
                Entry::Many(a.iter().map(Contact::from_json_value).collect::<Result<_, _>>()?)
            }
            Some(o @ Value::Object(_)) => Entry::One(Box::new(Contact::from_json_value(o)?)),
            Some(_) => {
                return Err(PocoError::Invalid(
                    "poco: entry is neither an object nor an array".into(),
                ));
            }
        };
        Ok(Response {
            start_index: num("startIndex")?.unwrap_or(0),
            items_per_page: num("itemsPerPage")?,
            total_results: num("totalResults")?.unwrap_or(0),
            filtered: flag("filtered"),
            sorted: flag("sorted"),
            updated_since: flag("updatedSince"),
            entry,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_datetime("2008-01-23T04:56:22Z"), Some(1_201_064_182));
        assert_eq!(parse_datetime("2008-01-23T05:56:22+01:00"), Some(1_201_064_182));
        assert_eq!(parse_datetime("2008-01-23T04:56:22.5Z"), Some(1_201_064_182));
        assert_eq!(parse_datetime("2008-01-23"), Some(1_201_046_400));
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2008-13-01T00:00:00Z"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("").unwrap(), Selection::All);
        assert_eq!(parse_path("/@me/@all/").unwrap(), Selection::All);
        assert_eq!(parse_path("/@me/@self").unwrap(), Selection::Myself);
        assert_eq!(
            parse_path("/@me/@all/a%20b").unwrap(),
            Selection::One("a b".into())
        );
        assert!(parse_path("/@you/@all").is_err());
    }
}
