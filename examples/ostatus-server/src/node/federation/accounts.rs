//! Remote and local accounts: WebFinger, the account's feed, the magic
//! public key and the key lookup of the Salmon endpoint.

use super::*;

/// Every magic public key a WebFinger document publishes, space-separated:
/// the `magic-public-key` links and the XRD `Property` form (Friendica and
/// StatusNet published both, sometimes with different keys).
pub(crate) fn magic_keys_of(d: &ostatus_webfinger::Descriptor) -> Option<String> {
    let keys: Vec<&str> = d
        .magic_keys()
        .filter(|k| !k.contains(char::is_whitespace))
        .collect();
    (!keys.is_empty()).then(|| keys.join(" "))
}

pub(super) struct NodeKeys(pub(super) Arc<Node>);

impl KeyResolver for NodeKeys {
    async fn keys(&self, signer: &str, refresh: bool) -> Result<Vec<MagicPublicKey>, KeyLookupError> {
        let fail = |reason: String| KeyLookupError::no_key(signer, reason);
        let failed = |e: NodeError| match e {
            // Nobody by that name: a missing key, not a failed lookup.
            NodeError::NotFound(what) => KeyLookupError::no_key(signer, format!("not found: {what}")),
            e => KeyLookupError::lookup(signer, e),
        };
        if let Some(name) = self.0.local_username(signer) {
            let user = self.0.user(&name).map_err(failed)?;
            let key = self.0.public_key_uri(&user).map_err(failed)?;
            return Ok(vec![
                MagicPublicKey::parse(&key).map_err(|e| KeyLookupError::lookup(signer, e))?,
            ]);
        }
        let resource = Resource::parse(signer).map_err(|e| fail(e.to_string()))?;
        let account = self.0.resolve(&resource, refresh).await.map_err(failed)?;
        if account.uri != signer {
            return Err(fail(format!("WebFinger names {} for this signer", account.uri)));
        }
        let keys = account
            .public_key
            .ok_or_else(|| fail("no magic-public-key".into()))?;
        // Every key the account publishes; one that does not parse is
        // skipped as long as another does.
        let parsed: Vec<MagicPublicKey> = keys
            .split_whitespace()
            .filter_map(|k| MagicPublicKey::parse(k).ok())
            .collect();
        if parsed.is_empty() {
            return Err(fail(format!("no readable magic public key in {keys:?}")));
        }
        Ok(parsed)
    }
}

/// What a person says of itself: its `poco:note`, else its `summary`, as
/// text (at most 2,000 characters are kept).
pub(crate) fn bio_of(p: &Person) -> String {
    let bio = p
        .poco
        .note
        .clone()
        .or_else(|| p.summary.as_ref().map(Text::plain_text))
        .unwrap_or_default();
    bio.trim().chars().take(2000).collect()
}

/// A person's avatar: the widest of its `rel="avatar"` links (GNU social
/// listed four sizes; Mastodon one), if it is an http(s) URL.
pub(crate) fn avatar_of(p: &Person) -> Option<Avatar> {
    let dimension = |l: &Link, name: &str| {
        l.extra_attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ostatus_activitystreams::xml::MEDIA) && a.local == name)
            .and_then(|a| a.value.trim().parse::<u32>().ok())
    };
    p.links
        .iter()
        .filter(|l| l.rel == "avatar")
        .filter(|l| matches!(Url::parse(&l.href), Ok(u) if matches!(u.scheme(), "http" | "https")))
        .max_by_key(|l| dimension(l, "width").unwrap_or(0))
        .map(|l| Avatar {
            url: l.href.clone(),
            media_type: l.type_.clone(),
            width: dimension(l, "width"),
            height: dimension(l, "height"),
        })
}

impl Node {
    /// A local user as an account.
    pub(super) fn local_account(&self, user: &User) -> Account {
        Account {
            uri: self.user_uri(&user.username),
            acct: self.user_acct(&user.username),
            display_name: user.display_name.clone(),
            profile_url: Some(self.user_uri(&user.username)),
            feed_url: Some(format!("{}.atom", self.user_uri(&user.username))),
            salmon_url: Some(format!("{}api/salmon/{}", self.config.base_url, user.username)),
            hub_url: None,
            public_key: self.public_key_uri(user).ok().map(|k| k.to_string()),
            fetched_at: now_secs(),
            honours_scope: true,
            fresh_until: None,
            locked: user.locked,
            bio: user.bio.clone(),
            avatar: user.avatar.as_ref().and_then(|a| {
                Some(Avatar {
                    url: self.url(&format!("media/{}", a.url)).ok()?.to_string(),
                    ..a.clone()
                })
            }),
        }
    }

    /// Any account by URI: local, cached, or `None`.
    pub(crate) fn known_account(&self, uri: &str) -> Result<Option<Account>, NodeError> {
        if let Some(name) = self.local_username(uri) {
            // Local accounts are read on every entry of every feed and page:
            // kept until the database is written to (a profile or a lock
            // may have changed, in this process or another).
            let stamp = self.db.change_stamp()?;
            if let Some(a) = self.local_account_cached(&name, stamp) {
                return Ok(Some(a));
            }
            let found = self.db.user(&name)?.map(|u| self.local_account(&u));
            if let Some(a) = &found {
                self.cache_local_account(&name, stamp, a.clone());
            }
            return Ok(found);
        }
        Ok(self.db.account(uri)?)
    }

    /// Resolves an account by `user@host`, `acct:` URI or profile URL:
    /// from the cache when fresh, else WebFinger (JRD or XRD, host-meta
    /// LRDD fallback, subject check) and then its feed, for its URI, name
    /// and hub.
    ///
    /// # Errors
    ///
    /// [`NodeError::Blocked`], [`NodeError::Remote`] when it cannot be resolved.
    pub async fn resolve(&self, resource: &Resource, refresh: bool) -> Result<Account, NodeError> {
        let host = resource.host().unwrap_or_default();
        if host == self.config.domain {
            let name = match resource {
                Resource::Acct(a) => Some(a.user().to_owned()),
                Resource::Url(u) => self.local_username(u.as_str()),
                _ => None,
            };
            let user = name
                .and_then(|n| self.db.user(&n).ok().flatten())
                .ok_or_else(|| NodeError::NotFound(resource.to_string()))?;
            return Ok(self.local_account(&user));
        }
        let host_only = host.split(':').next().unwrap_or_default().to_owned();
        if self.db.domain_blocked(&host_only)? {
            return Err(NodeError::Blocked(host_only));
        }
        let cached = match resource {
            Resource::Acct(a) => self.db.account_by_acct(&a.without_scheme())?,
            Resource::Url(u) => self.db.account(u.as_str())?,
            _ => None,
        };
        // A cached account is used while fresh: for the node's own
        // lifetime, or less when its WebFinger answer said so (MS-RSA-05).
        if let Some(a) = &cached
            && !refresh
            && now_secs() < a.fresh_until.unwrap_or(i64::MAX).min(a.fetched_at + ACCOUNT_TTL)
        {
            return Ok(a.clone());
        }
        let found = self.webfinger.resolve(resource).await.map_err(remote)?;
        let d = &found.descriptor;
        let acct = d
            .subject
            .as_deref()
            .and_then(|s| s.strip_prefix("acct:"))
            .map(str::to_owned)
            .or_else(|| resource.as_acct().map(ostatus_webfinger::Acct::without_scheme))
            .ok_or_else(|| NodeError::Remote(format!("{resource}: no acct: subject")))?;
        let feed_url = d
            .href(&Rel::UpdatesFrom)
            .map(str::to_owned)
            .ok_or_else(|| NodeError::Remote(format!("{acct}: no updates-from link")))?;
        let mut account = Account {
            uri: String::new(),
            acct: acct.clone(),
            display_name: String::new(),
            profile_url: d.href(&Rel::ProfilePage).map(str::to_owned),
            feed_url: Some(feed_url.clone()),
            salmon_url: d.href(&Rel::Salmon).map(str::to_owned),
            hub_url: None,
            public_key: magic_keys_of(d),
            fetched_at: now_secs(),
            honours_scope: false,
            locked: false,
            bio: String::new(),
            avatar: None,
            // Cache-Control and the document's own Expires (MS-RSA-05/06).
            fresh_until: found.usable_until(now_secs()),
        };
        let feed_url = Url::parse(&feed_url).map_err(remote)?;
        let fetched = self.http.get(&feed_url).await.map_err(remote)?;
        if !fetched.status.is_success() {
            return Err(NodeError::Remote(format!("{feed_url}: {}", fetched.status)));
        }
        let feed = Feed::parse(&fetched.body).map_err(remote)?;
        let owner = feed.owner().cloned();
        account.uri = owner
            .as_ref()
            .and_then(Person::identifier)
            .or_else(|| account.profile_url.clone())
            .ok_or_else(|| NodeError::Remote(format!("{acct}: the feed names no author")))?;
        account.display_name = owner
            .as_ref()
            .and_then(|p| p.display_name().map(str::to_owned))
            .unwrap_or_else(|| acct.split('@').next().unwrap_or_default().to_owned());
        if let Some(p) = &owner {
            (account.bio, account.avatar) = (bio_of(p), avatar_of(p));
        }
        account.hub_url = feed.hubs().next().map(str::to_owned);
        // Mastodon's author carries mastodon:scope; software that writes it
        // reads it, and may be sent private and direct statuses.
        account.honours_scope = owner.as_ref().is_some_and(|p| p.scope.is_some());
        // ...and `private` there is a locked account (follows need approval).
        account.locked = owner
            .as_ref()
            .and_then(|p| p.scope.as_deref())
            .is_some_and(|s| s == "private");
        if account.salmon_url.is_none() {
            account.salmon_url = feed.salmon().map(str::to_owned);
        }
        self.db.put_account(&account)?;
        self.report(
            "→",
            format!("WebFinger + feed: resolved {acct} ({})", account.uri),
        );
        Ok(account)
    }

    pub(super) fn parse_acct(input: &str) -> Result<Resource, NodeError> {
        Resource::parse_lenient(input.trim().trim_start_matches('@'))
            .map_err(|e| NodeError::Invalid(format!("{input:?}: {e}")))
    }

    // ----- Entries and feeds -------------------------------------------------

    /// An account as an Atom author.
    pub(super) fn person(&self, a: &Account) -> Person {
        let (user, host) = a.acct.split_once('@').unwrap_or((&a.acct, ""));
        let name = (!a.display_name.is_empty()).then_some(a.display_name.as_str());
        let mut p = Person::account(&a.uri, user, host, name, a.profile_url.as_deref());
        // As Mastodon: the author of a local account carries its scope,
        // `private` when it is locked, which also tells peers that this
        // node honours the scopes of the statuses it is sent.
        if self.local_username(&a.uri).is_some() {
            p.scope = Some(if a.locked { "private" } else { "public" }.into());
        }
        // The biography as Mastodon wrote it: `summary` and `poco:note`.
        if !a.bio.is_empty() {
            p.summary = Some(Text::plain(a.bio.clone()));
            p.poco.note = Some(a.bio.clone());
        }
        if let Some(av) = &a.avatar {
            let mut link = Link::new("avatar", av.url.clone());
            link.type_.clone_from(&av.media_type);
            for (name, v) in [("width", av.width), ("height", av.height)] {
                if let Some(v) = v {
                    link.extra_attrs.push(ostatus_activitystreams::xml::Attr {
                        ns: Some(ostatus_activitystreams::xml::MEDIA.to_owned()),
                        local: name.to_owned(),
                        value: v.to_string(),
                    });
                }
            }
            p.links.push(link);
        }
        p
    }

    /// The Salmon endpoint's key lookup.
    pub(crate) fn keys(self: &Arc<Self>) -> impl KeyResolver + use<> {
        NodeKeys(self.clone())
    }
}
