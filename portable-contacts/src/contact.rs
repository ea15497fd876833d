//! The contact schema of Portable Contacts 1.0 Draft C (§7) and its JSON form.

use serde_json::{Map, Value};

use crate::error::PocoError;

/// An instance of a plural field (`emails`, `urls`, `phoneNumbers`, `ims`,
/// `photos`, and the OpenSocial plural fields): a value with an optional
/// type and primary flag (§7.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Plural {
    /// The value (an e-mail address, URL, number, handle…).
    pub value: String,
    /// The type: `work`, `home`, `other`, and per field `mobile`, `fax`,
    /// `pager`, `blog`, `profile`, `aim`, `xmpp`, `thumbnail`… (OStatus uses `homepage`).
    pub type_: Option<String>,
    /// Whether this is the preferred instance (at most one per field).
    pub primary: Option<bool>,
    /// Sub-fields beyond value/type/primary, kept as given.
    pub extra: Vec<(String, Value)>,
}

impl Plural {
    /// An instance with a value only.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            ..Self::default()
        }
    }

    /// With a type.
    #[must_use]
    pub fn with_type(mut self, t: impl Into<String>) -> Self {
        self.type_ = Some(t.into());
        self
    }

    /// Marked primary.
    #[must_use]
    pub fn primary(mut self) -> Self {
        self.primary = Some(true);
        self
    }
}

/// The `name` element (§7.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Name {
    /// The full name, formatted for display.
    pub formatted: Option<String>,
    /// Family (last) name.
    pub family_name: Option<String>,
    /// Given (first) name.
    pub given_name: Option<String>,
    /// Middle name(s).
    pub middle_name: Option<String>,
    /// Honorific prefix (`Dr.`).
    pub honorific_prefix: Option<String>,
    /// Honorific suffix (`Jr.`).
    pub honorific_suffix: Option<String>,
}

/// An `addresses` instance (§7.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Address {
    /// The full address, formatted for display (may hold newlines).
    pub formatted: Option<String>,
    /// Street address (may hold newlines).
    pub street_address: Option<String>,
    /// City or locality.
    pub locality: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// `work`, `home`, `other`.
    pub type_: Option<String>,
    /// Whether this is the preferred address.
    pub primary: Option<bool>,
}

/// An `organizations` instance (§7.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Organization {
    /// Name of the organization (required non-empty by the spec).
    pub name: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// `job` or `school`.
    pub type_: Option<String>,
    /// Start date (xs:date).
    pub start_date: Option<String>,
    /// End date (xs:date).
    pub end_date: Option<String>,
    /// Office location.
    pub location: Option<String>,
    /// Description (may hold newlines).
    pub description: Option<String>,
    /// Whether this is the preferred organization.
    pub primary: Option<bool>,
}

/// An `accounts` instance (§7.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Account {
    /// The provider's top-level domain (`twitter.com`).
    pub domain: Option<String>,
    /// The account name.
    pub username: Option<String>,
    /// The account's numeric or opaque id.
    pub userid: Option<String>,
    /// Whether this is the preferred account.
    pub primary: Option<bool>,
}

/// A contact (§7): every singular and plural field of Draft C typed, and
/// everything else (the OpenSocial fields of Appendix B, vendor fields)
/// kept in [`Contact::extra`] so that nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Contact {
    /// Unique, stable identifier (required by providers).
    pub id: Option<String>,
    /// The name to display (required by providers).
    pub display_name: Option<String>,
    /// The broken-out name.
    pub name: Option<Name>,
    /// Casual name.
    pub nickname: Option<String>,
    /// When the contact was created (xs:dateTime).
    pub published: Option<String>,
    /// When it was last modified (xs:dateTime).
    pub updated: Option<String>,
    /// Birthday (xs:date; the year may be `0000`).
    pub birthday: Option<String>,
    /// Wedding anniversary (xs:date).
    pub anniversary: Option<String>,
    /// `male`, `female`, `undisclosed`, or free text.
    pub gender: Option<String>,
    /// Notes (may hold newlines).
    pub note: Option<String>,
    /// The preferred username (the OStatus nickname).
    pub preferred_username: Option<String>,
    /// Offset from UTC, like `-08:00`.
    pub utc_offset: Option<String>,
    /// Whether a bi-directional relationship exists.
    pub connected: Option<bool>,
    /// Tags.
    pub tags: Vec<String>,
    /// Relationship types (XFN values: `friend`, `colleague`…).
    pub relationships: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<Plural>,
    /// URLs (OStatus: `homepage`, `profile`).
    pub urls: Vec<Plural>,
    /// Phone numbers.
    pub phone_numbers: Vec<Plural>,
    /// Photos (URLs of image files).
    pub photos: Vec<Plural>,
    /// Instant messaging handles.
    pub ims: Vec<Plural>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// Organizations.
    pub organizations: Vec<Organization>,
    /// Accounts on other services.
    pub accounts: Vec<Account>,
    /// Every other field (OpenSocial Appendix B fields such as `drinker`,
    /// `aboutMe`, `interests`; vendor fields), in JSON form, in the order read.
    pub extra: Vec<(String, Value)>,
}

/// The OpenSocial singular fields of Appendix B, in the order they are
/// written (between `gender` and `note`).
pub const OPENSOCIAL_SINGULAR: &[&str] = &[
    "aboutMe",
    "bodyType",
    "currentLocation",
    "drinker",
    "ethnicity",
    "fashion",
    "happiestWhen",
    "humor",
    "livingArrangement",
    "lookingFor",
    "profileSong",
    "profileVideo",
    "relationshipStatus",
    "religion",
    "romance",
    "scaredOf",
    "sexualOrientation",
    "smoker",
    "status",
];

/// The OpenSocial plural fields of Appendix B, written after `accounts`.
pub const OPENSOCIAL_PLURAL: &[&str] = &[
    "activities",
    "books",
    "cars",
    "children",
    "food",
    "heroes",
    "interests",
    "jobInterests",
    "languages",
    "languagesSpoken",
    "movies",
    "music",
    "pets",
    "politicalViews",
    "quotes",
    "sports",
    "turnOffs",
    "turnOns",
    "tvShows",
];

/// Whether `field` is a plural field (read as a list of elements in XML).
pub fn is_plural(field: &str) -> bool {
    matches!(
        field,
        "tags"
            | "relationships"
            | "emails"
            | "urls"
            | "phoneNumbers"
            | "photos"
            | "ims"
            | "addresses"
            | "organizations"
            | "accounts"
    ) || OPENSOCIAL_PLURAL.contains(&field)
}

fn invalid(field: &str, what: &str) -> PocoError {
    PocoError::Invalid(format!("poco: {field} {what}"))
}

fn string(field: &str, v: &Value) -> Result<String, PocoError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(invalid(field, "is not a string")),
    }
}

/// Reads a Boolean given as `true`/`false` or the strings `"true"`/`"false"`
/// (the spec's own examples quote them).
fn boolean(field: &str, v: &Value) -> Result<bool, PocoError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(invalid(field, "is not true or false")),
    }
}

fn object<'a>(field: &str, v: &'a Value) -> Result<&'a Map<String, Value>, PocoError> {
    v.as_object().ok_or_else(|| invalid(field, "is not an object"))
}

/// A plural field may be given as an array, or (leniently) as one instance.
fn instances(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn opt_str(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, PocoError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => string(&format!("{field}.{key}"), v).map(Some),
    }
}

fn opt_bool(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<bool>, PocoError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => boolean(&format!("{field}.{key}"), v).map(Some),
    }
}

fn plural(field: &str, v: &Value) -> Result<Vec<Plural>, PocoError> {
    instances(v)
        .into_iter()
        .map(|i| match i {
            Value::String(s) => Ok(Plural::new(s.clone())),
            Value::Object(m) => {
                let mut p = Plural {
                    value: opt_str(m, "value", field)?.unwrap_or_default(),
                    type_: opt_str(m, "type", field)?,
                    primary: opt_bool(m, "primary", field)?,
                    extra: Vec::new(),
                };
                for (k, v) in m {
                    if !matches!(k.as_str(), "value" | "type" | "primary") {
                        p.extra.push((k.clone(), v.clone()));
                    }
                }
                Ok(p)
            }
            _ => Err(invalid(
                field,
                "has an instance that is neither a string nor an object",
            )),
        })
        .collect()
}

fn strings(field: &str, v: &Value) -> Result<Vec<String>, PocoError> {
    instances(v)
        .into_iter()
        .map(|i| match i {
            Value::Object(m) => opt_str(m, "value", field).map(Option::unwrap_or_default),
            other => string(field, other),
        })
        .collect()
}

/// An xs:dateTime as a date-time (RFC 3339, as PoCo writes it).
fn date_time(text: Option<&str>) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text?.trim(), &time::format_description::well_known::Rfc3339).ok()
}

/// An xs:date (`YYYY-MM-DD`) as a date; `None` for another form or an
/// unknown year (`0000`, which PoCo allows for birthdays).
fn date(text: Option<&str>) -> Option<time::Date> {
    let mut parts = text?.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if year == 0 {
        return None;
    }
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

impl Contact {
    /// `published` as a date-time, when it is a valid one (the field keeps
    /// the text as written).
    pub fn published_at(&self) -> Option<time::OffsetDateTime> {
        date_time(self.published.as_deref())
    }

    /// `updated` as a date-time, when it is a valid one.
    pub fn updated_at(&self) -> Option<time::OffsetDateTime> {
        date_time(self.updated.as_deref())
    }

    /// `birthday` as a date, when it is a whole one (`0000` years, which
    /// PoCo allows for a birthday without a year, give `None`).
    pub fn birthday_date(&self) -> Option<time::Date> {
        date(self.birthday.as_deref())
    }

    /// `anniversary` as a date, when it is a whole one.
    pub fn anniversary_date(&self) -> Option<time::Date> {
        date(self.anniversary.as_deref())
    }
    /// Reads a contact from its JSON object.
    ///
    /// Booleans are accepted as JSON Booleans or as the strings `"true"` and
    /// `"false"`; a plural field given as a single instance is read as a list
    /// of one; unknown fields go to [`Contact::extra`].
    ///
    /// # Errors
    ///
    /// [`PocoError::Invalid`] when a known field has the wrong shape.
    pub fn from_json_value(v: &Value) -> Result<Self, PocoError> {
        let m = object("entry", v)?;
        let mut c = Contact::default();
        for (k, v) in m {
            if v.is_null() {
                continue;
            }
            let s = || string(k, v).map(Some);
            match k.as_str() {
                "id" => c.id = s()?,
                "displayName" => c.display_name = s()?,
                "nickname" => c.nickname = s()?,
                "published" => c.published = s()?,
                "updated" => c.updated = s()?,
                "birthday" => c.birthday = s()?,
                "anniversary" => c.anniversary = s()?,
                "gender" => c.gender = s()?,
                "note" => c.note = s()?,
                "preferredUsername" => c.preferred_username = s()?,
                "utcOffset" => c.utc_offset = s()?,
                "connected" => c.connected = Some(boolean(k, v)?),
                "name" => {
                    let n = object(k, v)?;
                    c.name = Some(Name {
                        formatted: opt_str(n, "formatted", k)?,
                        family_name: opt_str(n, "familyName", k)?,
                        given_name: opt_str(n, "givenName", k)?,
                        middle_name: opt_str(n, "middleName", k)?,
                        honorific_prefix: opt_str(n, "honorificPrefix", k)?,
                        honorific_suffix: opt_str(n, "honorificSuffix", k)?,
                    });
                }
                "tags" => c.tags = strings(k, v)?,
                "relationships" => c.relationships = strings(k, v)?,
                "emails" => c.emails = plural(k, v)?,
                "urls" => c.urls = plural(k, v)?,
                "phoneNumbers" => c.phone_numbers = plural(k, v)?,
                "photos" => c.photos = plural(k, v)?,
                "ims" => c.ims = plural(k, v)?,
                "addresses" => {
                    for i in instances(v) {
                        let a = object(k, i)?;
                        c.addresses.push(Address {
                            formatted: opt_str(a, "formatted", k)?,
                            street_address: opt_str(a, "streetAddress", k)?,
                            locality: opt_str(a, "locality", k)?,
                            region: opt_str(a, "region", k)?,
                            postal_code: opt_str(a, "postalCode", k)?,
                            country: opt_str(a, "country", k)?,
                            type_: opt_str(a, "type", k)?,
                            primary: opt_bool(a, "primary", k)?,
                        });
                    }
                }
                "organizations" => {
                    for i in instances(v) {
                        let o = object(k, i)?;
                        c.organizations.push(Organization {
                            name: opt_str(o, "name", k)?,
                            department: opt_str(o, "department", k)?,
                            title: opt_str(o, "title", k)?,
                            type_: opt_str(o, "type", k)?,
                            start_date: opt_str(o, "startDate", k)?,
                            end_date: opt_str(o, "endDate", k)?,
                            location: opt_str(o, "location", k)?,
                            description: opt_str(o, "description", k)?,
                            primary: opt_bool(o, "primary", k)?,
                        });
                    }
                }
                "accounts" => {
                    for i in instances(v) {
                        let a = object(k, i)?;
                        c.accounts.push(Account {
                            domain: opt_str(a, "domain", k)?,
                            username: opt_str(a, "username", k)?,
                            userid: opt_str(a, "userid", k)?,
                            primary: opt_bool(a, "primary", k)?,
                        });
                    }
                }
                _ => c.extra.push((k.clone(), v.clone())),
            }
        }
        // Keep `extra` in the order it is written in (OpenSocial singular
        // fields, OpenSocial plural fields, then the rest as read), so that a
        // contact reads back equal to itself.
        c.extra.sort_by_key(|(k, _)| extra_rank(k));
        Ok(c)
    }

    /// Reads a contact from JSON text.
    ///
    /// # Errors
    ///
    /// [`PocoError::Json`] for invalid JSON, [`PocoError::Invalid`] for a
    /// field of the wrong shape.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PocoError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| PocoError::Json(e.to_string()))?;
        Self::from_json_value(&v)
    }

    /// The contact as a JSON object, fields in the canonical order (the
    /// order of the spec's Appendix A): Draft C singular fields, the
    /// OpenSocial singular fields, the plural fields, the OpenSocial plural
    /// fields, then unknown fields in the order read. Booleans are written as
    /// the strings `"true"`/`"false"`, as the spec's example does.
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        let put = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        };
        put(&mut m, "id", &self.id);
        put(&mut m, "displayName", &self.display_name);
        if let Some(n) = &self.name {
            let mut o = Map::new();
            put(&mut o, "formatted", &n.formatted);
            put(&mut o, "familyName", &n.family_name);
            put(&mut o, "givenName", &n.given_name);
            put(&mut o, "middleName", &n.middle_name);
            put(&mut o, "honorificPrefix", &n.honorific_prefix);
            put(&mut o, "honorificSuffix", &n.honorific_suffix);
            m.insert("name".into(), Value::Object(o));
        }
        put(&mut m, "nickname", &self.nickname);
        put(&mut m, "published", &self.published);
        put(&mut m, "updated", &self.updated);
        put(&mut m, "birthday", &self.birthday);
        put(&mut m, "anniversary", &self.anniversary);
        put(&mut m, "gender", &self.gender);
        for name in OPENSOCIAL_SINGULAR {
            if let Some((k, v)) = self.extra.iter().find(|(k, _)| k == name) {
                m.insert(k.clone(), v.clone());
            }
        }
        put(&mut m, "note", &self.note);
        put(&mut m, "preferredUsername", &self.preferred_username);
        put(&mut m, "utcOffset", &self.utc_offset);
        if let Some(b) = self.connected {
            m.insert("connected".into(), Value::String(b.to_string()));
        }
        let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        if !self.tags.is_empty() {
            m.insert("tags".into(), list(&self.tags));
        }
        if !self.relationships.is_empty() {
            m.insert("relationships".into(), list(&self.relationships));
        }
        for (k, v) in [
            ("emails", &self.emails),
            ("urls", &self.urls),
            ("phoneNumbers", &self.phone_numbers),
            ("photos", &self.photos),
            ("ims", &self.ims),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), Value::Array(v.iter().map(plural_value).collect()));
            }
        }
        if !self.addresses.is_empty() {
            let a = self
                .addresses
                .iter()
                .map(|a| {
                    let mut o = Map::new();
                    put(&mut o, "type", &a.type_);
                    put_bool(&mut o, "primary", a.primary);
                    put(&mut o, "streetAddress", &a.street_address);
                    put(&mut o, "locality", &a.locality);
                    put(&mut o, "region", &a.region);
                    put(&mut o, "postalCode", &a.postal_code);
                    put(&mut o, "country", &a.country);
                    put(&mut o, "formatted", &a.formatted);
                    Value::Object(o)
                })
                .collect();
            m.insert("addresses".into(), Value::Array(a));
        }
        if !self.organizations.is_empty() {
            let a = self
                .organizations
                .iter()
                .map(|g| {
                    let mut o = Map::new();
                    put(&mut o, "name", &g.name);
                    put(&mut o, "department", &g.department);
                    put(&mut o, "title", &g.title);
                    put(&mut o, "type", &g.type_);
                    put(&mut o, "startDate", &g.start_date);
                    put(&mut o, "endDate", &g.end_date);
                    put(&mut o, "location", &g.location);
                    put(&mut o, "description", &g.description);
                    put_bool(&mut o, "primary", g.primary);
                    Value::Object(o)
                })
                .collect();
            m.insert("organizations".into(), Value::Array(a));
        }
        if !self.accounts.is_empty() {
            let a = self
                .accounts
                .iter()
                .map(|g| {
                    let mut o = Map::new();
                    put(&mut o, "domain", &g.domain);
                    put(&mut o, "username", &g.username);
                    put(&mut o, "userid", &g.userid);
                    put_bool(&mut o, "primary", g.primary);
                    Value::Object(o)
                })
                .collect();
            m.insert("accounts".into(), Value::Array(a));
        }
        for name in OPENSOCIAL_PLURAL {
            if let Some((k, v)) = self.extra.iter().find(|(k, _)| k == name) {
                m.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &self.extra {
            if !OPENSOCIAL_SINGULAR.contains(&k.as_str()) && !OPENSOCIAL_PLURAL.contains(&k.as_str()) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    /// The contact as compact JSON text.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// The instance of a plural field to show: the primary one, else the first.
    pub fn preferred(list: &[Plural]) -> Option<&Plural> {
        list.iter()
            .find(|p| p.primary == Some(true))
            .or_else(|| list.first())
    }
}

/// Where an extra field goes in the written order.
fn extra_rank(k: &str) -> usize {
    OPENSOCIAL_SINGULAR
        .iter()
        .position(|f| *f == k)
        .or_else(|| {
            OPENSOCIAL_PLURAL
                .iter()
                .position(|f| *f == k)
                .map(|i| i + OPENSOCIAL_SINGULAR.len())
        })
        .unwrap_or(usize::MAX)
}

fn put_bool(m: &mut Map<String, Value>, k: &str, v: Option<bool>) {
    if let Some(b) = v {
        m.insert(k.into(), Value::String(b.to_string()));
    }
}

fn plural_value(p: &Plural) -> Value {
    let mut o = Map::new();
    o.insert("value".into(), Value::String(p.value.clone()));
    if let Some(t) = &p.type_ {
        o.insert("type".into(), Value::String(t.clone()));
    }
    put_bool(&mut o, "primary", p.primary);
    for (k, v) in &p.extra {
        o.insert(k.clone(), v.clone());
    }
    Value::Object(o)
}
