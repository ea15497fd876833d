//! Profiles: a local user's name, biography and avatar, changed and told
//! to peers as GNU social did (an `update-profile` activity through the
//! hub); a remote account's, taken from what it sends.

use super::accounts::{avatar_of, bio_of};
use super::media::stored_name;
use super::*;

/// The largest avatar kept, in bytes.
pub const MAX_AVATAR_BYTES: usize = 2 << 20;
/// The largest avatar side kept, in pixels.
pub const MAX_AVATAR_SIDE: usize = 4096;
/// The longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest biography kept, in characters.
pub const MAX_BIO_CHARS: usize = 500;

/// A change to a local user's profile; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// The name shown.
    pub display_name: Option<String>,
    /// The biography (plain text).
    pub bio: Option<String>,
    /// A new avatar: the image file's bytes (PNG, JPEG, GIF or WebP).
    pub avatar: Option<Vec<u8>>,
}

/// An uploaded avatar, checked: its file extension, media type and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    /// `png`, `jpg`, `gif` or `webp`.
    pub extension: &'static str,
    /// The media type served and written in the Atom link.
    pub media_type: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Checks an uploaded avatar from its header alone: a PNG, JPEG, GIF or
/// WebP of at most [`MAX_AVATAR_BYTES`] and [`MAX_AVATAR_SIDE`] pixels a
/// side. What it claims to be (a file name, a form's content type) is not
/// trusted.
///
/// # Errors
///
/// [`NodeError::Invalid`], saying why.
pub fn check_avatar(bytes: &[u8]) -> Result<CheckedImage, NodeError> {
    if bytes.len() > MAX_AVATAR_BYTES {
        return Err(NodeError::Invalid(format!(
            "the avatar is {} bytes; at most {MAX_AVATAR_BYTES} are taken",
            bytes.len()
        )));
    }
    let kind = imagesize::image_type(bytes).map_err(|_| {
        NodeError::Invalid("the avatar is not an image this node takes (PNG, JPEG, GIF or WebP)".into())
    })?;
    let (extension, media_type) = match kind {
        imagesize::ImageType::Png => ("png", "image/png"),
        imagesize::ImageType::Jpeg => ("jpg", "image/jpeg"),
        imagesize::ImageType::Gif => ("gif", "image/gif"),
        imagesize::ImageType::Webp => ("webp", "image/webp"),
        other => {
            return Err(NodeError::Invalid(format!(
                "the avatar is {other:?}; this node takes PNG, JPEG, GIF or WebP"
            )));
        }
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|e| NodeError::Invalid(format!("the avatar's size cannot be read: {e}")))?;
    if size.width == 0 || size.height == 0 || size.width > MAX_AVATAR_SIDE || size.height > MAX_AVATAR_SIDE {
        return Err(NodeError::Invalid(format!(
            "the avatar is {}×{} pixels; each side must be 1 to {MAX_AVATAR_SIDE}",
            size.width, size.height
        )));
    }
    Ok(CheckedImage {
        extension,
        media_type,
        width: u32::try_from(size.width).unwrap_or(u32::MAX),
        height: u32::try_from(size.height).unwrap_or(u32::MAX),
    })
}

/// Where the time and id of a user's latest profile update are kept.
fn profile_update_key(user: &User) -> String {
    format!("profile_update:{}", user.id)
}

impl Node {
    /// Changes `user`'s profile and tells the peers: the name, biography and
    /// avatar are checked, the avatar is kept under [`Node::media_dir`] by
    /// a name of its content's digest (and never removed), and an `update-profile` activity
    /// (GNU social's) goes out through the hub, with the new profile as its
    /// author; the feed's author says the same to whoever fetches it.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] for a name, biography or image that is not
    /// taken, saying why; nothing is changed then.
    pub async fn update_profile(&self, user: &User, change: ProfileChange) -> Result<User, NodeError> {
        let display_name = match change.display_name {
            Some(n) => {
                let n = n.trim().to_owned();
                if n.is_empty() || n.chars().count() > MAX_NAME_CHARS {
                    return Err(NodeError::Invalid(format!(
                        "a display name has 1 to {MAX_NAME_CHARS} characters"
                    )));
                }
                n
            }
            None => user.display_name.clone(),
        };
        let bio = match change.bio {
            Some(b) => {
                let b = b.trim().to_owned();
                if b.chars().count() > MAX_BIO_CHARS {
                    return Err(NodeError::Invalid(format!(
                        "a biography has at most {MAX_BIO_CHARS} characters"
                    )));
                }
                b
            }
            None => user.bio.clone(),
        };
        let avatar = match &change.avatar {
            Some(bytes) => {
                let image = check_avatar(bytes)?;
                let file = stored_name("avatar", user, bytes, image.extension);
                self.store_media(&file, bytes).await?;
                Some(Avatar {
                    url: file,
                    media_type: Some(image.media_type.to_owned()),
                    width: Some(image.width),
                    height: Some(image.height),
                })
            }
            None => user.avatar.clone(),
        };
        // An earlier avatar's file stays: peers may still show its URL, and a
        // backup taken meanwhile names it (see `backup`).
        self.db
            .set_profile(user.id, &display_name, &bio, avatar.as_ref())?;
        self.forget_local_account(&user.username);
        let updated = self.user(&user.username)?;
        self.report(
            "·",
            format!("{} updated their profile", self.user_acct(&user.username)),
        );
        self.publish_profile(&updated).await?;
        Ok(updated)
    }

    /// Sends `user`'s `update-profile` through the hub: the activity is
    /// kept as the newest in the user's feed (with the profile as it stands
    /// as its author), and the hub is told the feed changed; subscribers
    /// get it as a new entry, and whoever fetches the feed later sees it.
    async fn publish_profile(&self, user: &User) -> Result<(), NodeError> {
        let me = self.user_uri(&user.username);
        let record = format!("{} {}", activity_id(&me, "profile")?, now_rfc3339());
        self.db.set_setting(&profile_update_key(user), &record)?;
        self.publish(user).await
    }

    /// The user's latest `update-profile` activity, if the profile was ever
    /// changed (see [`Node::update_profile`]).
    pub(super) fn profile_update_entry(
        &self,
        user: &User,
        account: &Account,
    ) -> Result<Option<Entry>, NodeError> {
        let Some(record) = self.db.setting(&profile_update_key(user))? else {
            return Ok(None);
        };
        let Some((id, at)) = record.split_once(' ') else {
            return Ok(None);
        };
        Ok(Some(Entry::update_profile(
            &Meta::new(id, at),
            self.person(account),
        )))
    }

    /// Takes what `p` says of itself as `account`'s profile (name,
    /// biography, avatar), when `p` is that account; whether it changed.
    pub(crate) fn apply_profile(&self, account: &Account, p: &Person) -> Result<bool, NodeError> {
        if account.is_feed()
            || self.local_username(&account.uri).is_some()
            || p.identifier().as_deref() != Some(account.uri.as_str())
        {
            return Ok(false);
        }
        let name = p
            .display_name()
            .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| account.display_name.clone());
        let changed = self
            .db
            .set_account_profile(&account.uri, &name, &bio_of(p), avatar_of(p).as_ref())?;
        if changed {
            self.report("←", format!("{} updated their profile", account.acct));
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The first bytes of a PNG of `w`×`h` pixels: what a header reader
    /// sees of a real one.
    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn avatars_are_checked_by_their_bytes() {
        let ok = check_avatar(&png(120, 80)).unwrap();
        assert_eq!(
            (ok.extension, ok.media_type, ok.width, ok.height),
            ("png", "image/png", 120, 80)
        );
        let gif = check_avatar(b"GIF89a\x10\x00\x20\x00\x00\x00\x00").unwrap();
        assert_eq!((gif.media_type, gif.width, gif.height), ("image/gif", 16, 32));
        // Not an image, an image of no size, one too large, one too many bytes.
        let why = |b: &[u8]| check_avatar(b).unwrap_err().to_string();
        assert!(why(b"<svg xmlns='http://www.w3.org/2000/svg'/>").contains("PNG, JPEG, GIF or WebP"));
        assert!(why(&png(0, 10)).contains("1 to 4096"));
        assert!(why(&png(5000, 10)).contains("1 to 4096"));
        let mut big = png(10, 10);
        big.resize(MAX_AVATAR_BYTES + 1, 0);
        assert!(why(&big).contains("at most"));
    }
}
