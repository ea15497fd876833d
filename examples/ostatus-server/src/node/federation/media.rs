//! Media: the files users upload (avatars, attachments), checked by their
//! bytes, stored whole under the data directory by a name made of their
//! digest, and served with the type they were found to be; and the
//! attachments of remote statuses, kept as links (`link rel="enclosure"`).

use super::*;

/// The most files one status carries (Mastodon's limit).
pub const MAX_ATTACHMENTS: usize = 4;
/// The largest image attachment kept, in bytes.
pub const MAX_IMAGE_BYTES: usize = 8 << 20;
/// The largest video or audio attachment kept, in bytes.
pub const MAX_AV_BYTES: usize = 16 << 20;
/// The largest image side kept, in pixels.
pub const MAX_IMAGE_SIDE: usize = 10_000;
/// The most enclosures taken from a remote entry.
const MAX_REMOTE_ATTACHMENTS: usize = 8;

/// What kind of media a file is, for how a page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// Shown with `<img>`.
    Image,
    /// Shown with `<video controls>`.
    Video,
    /// Shown with `<audio controls>`.
    Audio,
}

impl MediaKind {
    /// The kind of a media type (`image/…`, `video/…`, `audio/…`); `None`
    /// for anything else, which a page only links to.
    pub fn of(media_type: &str) -> Option<Self> {
        let top = media_type.split('/').next().unwrap_or_default();
        match top.trim().to_ascii_lowercase().as_str() {
            "image" => Some(Self::Image),
            "video" => Some(Self::Video),
            "audio" => Some(Self::Audio),
            _ => None,
        }
    }
}

/// The file types this node stores: extension, media type, kind.
const TYPES: &[(&str, &str, MediaKind)] = &[
    ("png", "image/png", MediaKind::Image),
    ("jpg", "image/jpeg", MediaKind::Image),
    ("gif", "image/gif", MediaKind::Image),
    ("webp", "image/webp", MediaKind::Image),
    ("mp4", "video/mp4", MediaKind::Video),
    ("webm", "video/webm", MediaKind::Video),
    ("m4a", "audio/mp4", MediaKind::Audio),
    ("ogg", "audio/ogg", MediaKind::Audio),
    ("mp3", "audio/mpeg", MediaKind::Audio),
];

/// An uploaded attachment, checked: what it was found to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedMedia {
    /// The extension it is stored under.
    pub extension: &'static str,
    /// The media type served and written in the enclosure link.
    pub media_type: &'static str,
    /// Image, video or audio.
    pub kind: MediaKind,
}

/// The extension of a video or audio file, by its first bytes.
fn sniff_av(b: &[u8]) -> Option<&'static str> {
    if b.get(4..8) == Some(b"ftyp".as_slice()) {
        // ISO base media: the major brand says audio (M4A) or video.
        return Some(if b.get(8..12) == Some(b"M4A ".as_slice()) {
            "m4a"
        } else {
            "mp4"
        });
    }
    if b.starts_with(b"\x1a\x45\xdf\xa3") {
        // Matroska; only its WebM profile plays in browsers.
        let head = b.get(..64).unwrap_or(b);
        return head.windows(4).any(|w| w == b"webm").then_some("webm");
    }
    if b.starts_with(b"OggS") {
        return Some("ogg");
    }
    let mp3_frame = matches!(b, [0xff, 0xfb | 0xf3 | 0xf2, ..]);
    (b.starts_with(b"ID3") || mp3_frame).then_some("mp3")
}

/// Checks an uploaded attachment from its bytes alone (a file name or a
/// form's content type is not trusted): an image (PNG, JPEG, GIF, WebP) of
/// at most [`MAX_IMAGE_BYTES`] and [`MAX_IMAGE_SIDE`] pixels a side, or a
/// video (MP4, WebM) or audio file (M4A, Ogg, MP3) of at most
/// [`MAX_AV_BYTES`].
///
/// # Errors
///
/// [`NodeError::Invalid`], saying why.
pub fn check_attachment(bytes: &[u8]) -> Result<CheckedMedia, NodeError> {
    let found = |ext: &str| {
        TYPES
            .iter()
            .find(|(e, ..)| *e == ext)
            .map(|&(extension, media_type, kind)| CheckedMedia {
                extension,
                media_type,
                kind,
            })
    };
    if let Some(ext) = sniff_av(bytes) {
        if bytes.len() > MAX_AV_BYTES {
            return Err(NodeError::Invalid(format!(
                "the {ext} file is {} bytes; video and audio files of at most {} MiB are taken",
                bytes.len(),
                MAX_AV_BYTES >> 20
            )));
        }
        return found(ext).ok_or_else(|| NodeError::Invalid(format!("{ext} files are not taken")));
    }
    let ext = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => "png",
        Ok(imagesize::ImageType::Jpeg) => "jpg",
        Ok(imagesize::ImageType::Gif) => "gif",
        Ok(imagesize::ImageType::Webp) => "webp",
        _ => {
            return Err(NodeError::Invalid(
                "an attachment is an image (PNG, JPEG, GIF, WebP), a video (MP4, WebM) \
                 or an audio file (M4A, Ogg, MP3); this file is none of them"
                    .into(),
            ));
        }
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(NodeError::Invalid(format!(
            "the image is {} bytes; images of at most {} MiB are taken",
            bytes.len(),
            MAX_IMAGE_BYTES >> 20
        )));
    }
    let size = imagesize::blob_size(bytes)
        .map_err(|e| NodeError::Invalid(format!("the image's size cannot be read: {e}")))?;
    if size.width == 0 || size.height == 0 || size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE {
        return Err(NodeError::Invalid(format!(
            "the image is {}×{} pixels; each side must be 1 to {MAX_IMAGE_SIDE}",
            size.width, size.height
        )));
    }
    found(ext).ok_or_else(|| NodeError::Invalid(format!("{ext} files are not taken")))
}

/// The media type of a stored media file, by the extension this node gave
/// it; `None` for a name this node does not write.
pub fn media_type_of(file: &str) -> Option<&'static str> {
    let (stem, ext) = file.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return None;
    }
    TYPES
        .iter()
        .find(|(e, ..)| *e == ext)
        .map(|&(_, media_type, _)| media_type)
}

/// The name a user's upload is stored under: what it is for, the user, and
/// the first 96 bits of its SHA-256, so the same file is stored once and a
/// name never changes its content.
pub(super) fn stored_name(what: &str, user: &User, bytes: &[u8], extension: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = digest
        .as_ref()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{what}-{}-{hex}.{extension}", user.id)
}

/// The attachments of a remote entry: its `link rel="enclosure"`, http(s)
/// only (as Pleroma), at most [`MAX_REMOTE_ATTACHMENTS`].
pub(super) fn entry_attachments(e: &Entry) -> Vec<Attachment> {
    e.enclosures()
        .filter(|l| is_http_url(&l.href))
        .take(MAX_REMOTE_ATTACHMENTS)
        .map(|l| Attachment {
            url: l.href.clone(),
            media_type: l
                .type_
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 100)
                .map(str::to_owned),
            length: l.length,
        })
        .collect()
}

/// Whether an entry marks its media sensitive: Mastodon's
/// `category term="nsfw"`.
pub(super) fn entry_sensitive(e: &Entry) -> bool {
    e.categories
        .iter()
        .any(|c| c.term.trim().trim_start_matches('#').eq_ignore_ascii_case("nsfw"))
}

fn is_http_url(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

impl Node {
    /// The directory of stored media (avatars and attachments): `media/`
    /// in the data directory.
    pub fn media_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.join("media")
    }

    /// Where an attachment is: a remote one's URL, or a stored file's URL
    /// under this node's `/media/`.
    pub fn attachment_url(&self, a: &Attachment) -> String {
        if a.url.contains(':') {
            return a.url.clone();
        }
        self.url(&format!("media/{}", a.url))
            .map_or_else(|_| a.url.clone(), |u| u.to_string())
    }

    /// Writes a media file whole or not at all: to a temporary name, synced,
    /// then renamed.
    pub(super) async fn store_media(&self, file: &str, bytes: &[u8]) -> Result<(), NodeError> {
        let dir = self.media_dir();
        let io = |e: std::io::Error| NodeError::Remote(format!("storing {file}: {e}"));
        let tmp = dir.join(format!(".{file}.tmp"));
        let bytes = bytes.to_vec();
        let path = dir.join(file);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            std::fs::create_dir_all(&dir)?;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|e| NodeError::Remote(format!("storing {file}: {e}")))?
        .map_err(io)
    }

    /// Checks and stores `user`'s uploads for one status: every file is
    /// checked before any is stored, so a refused one leaves nothing
    /// behind.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] for more than [`MAX_ATTACHMENTS`] files or a
    /// file [`check_attachment`] refuses, naming which.
    pub(super) async fn store_attachments(
        &self,
        user: &User,
        files: &[Vec<u8>],
    ) -> Result<Vec<Attachment>, NodeError> {
        if files.len() > MAX_ATTACHMENTS {
            return Err(NodeError::Invalid(format!(
                "{} files attached; a status carries at most {MAX_ATTACHMENTS}",
                files.len()
            )));
        }
        let mut checked = Vec::with_capacity(files.len());
        for (i, bytes) in files.iter().enumerate() {
            let media = check_attachment(bytes).map_err(|e| match e {
                NodeError::Invalid(why) if files.len() > 1 => {
                    NodeError::Invalid(format!("attachment {}: {why}", i + 1))
                }
                other => other,
            })?;
            checked.push((bytes, media));
        }
        let mut out = Vec::with_capacity(checked.len());
        for (bytes, media) in checked {
            let file = stored_name("media", user, bytes, media.extension);
            self.store_media(&file, bytes).await?;
            out.push(Attachment {
                url: file,
                media_type: Some(media.media_type.to_owned()),
                length: u64::try_from(bytes.len()).ok(),
            });
        }
        Ok(out)
    }

    /// Removes the stored files of a deleted status's attachments that no
    /// other status carries. A file that cannot be removed is logged and
    /// left.
    pub(super) async fn forget_media(&self, attachments: &[Attachment]) -> Result<(), NodeError> {
        for a in attachments {
            if a.url.contains(':') || media_type_of(&a.url).is_none() || self.db.media_in_use(&a.url)? {
                continue;
            }
            let path = self.media_dir().join(&a.url);
            let removed = tokio::task::spawn_blocking({
                let path = path.clone();
                move || std::fs::remove_file(path)
            })
            .await;
            match removed {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(Err(e)) => {
                    tracing::warn!(file = %path.display(), error = %e, "removing a deleted status's media failed");
                }
                Err(e) => tracing::warn!(error = %e, "removing a deleted status's media failed"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn attachments_are_checked_by_their_bytes() {
        let kind = |b: &[u8]| check_attachment(b).map(|m| (m.extension, m.media_type, m.kind));
        assert_eq!(
            kind(&png(4032, 3024)).unwrap(),
            ("png", "image/png", MediaKind::Image)
        );
        assert_eq!(
            kind(b"\0\0\0\x18ftypmp42\0\0\0\0").unwrap(),
            ("mp4", "video/mp4", MediaKind::Video)
        );
        assert_eq!(
            kind(b"\0\0\0\x20ftypM4A \0\0\0\0").unwrap(),
            ("m4a", "audio/mp4", MediaKind::Audio)
        );
        assert_eq!(
            kind(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm").unwrap(),
            ("webm", "video/webm", MediaKind::Video)
        );
        assert_eq!(
            kind(b"OggS\0\x02").unwrap(),
            ("ogg", "audio/ogg", MediaKind::Audio)
        );
        assert_eq!(
            kind(b"ID3\x04\0\0").unwrap(),
            ("mp3", "audio/mpeg", MediaKind::Audio)
        );
        let why = |b: &[u8]| check_attachment(b).unwrap_err().to_string();
        // Matroska that is not WebM, markup, an executable: refused.
        assert!(why(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska").contains("none of them"));
        assert!(why(b"<svg xmlns='http://www.w3.org/2000/svg'/>").contains("none of them"));
        assert!(why(b"\x7fELF\x02\x01\x01").contains("none of them"));
        assert!(why(&png(10_001, 10)).contains("1 to 10000"));
        let mut big = png(10, 10);
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert!(why(&big).contains("at most 8 MiB"));
        let mut long = b"OggS".to_vec();
        long.resize(MAX_AV_BYTES + 1, 0);
        assert!(why(&long).contains("at most 16 MiB"));
    }

    #[test]
    fn only_names_this_node_writes_are_served() {
        assert_eq!(media_type_of("avatar-1-0a1b.png"), Some("image/png"));
        assert_eq!(media_type_of("avatar-1-0a1b.jpg"), Some("image/jpeg"));
        assert_eq!(media_type_of("media-2-0a1b.mp4"), Some("video/mp4"));
        assert_eq!(media_type_of("media-2-0a1b.mp3"), Some("audio/mpeg"));
        for bad in [
            "../node.db",
            "a/b.png",
            "A.png",
            ".png",
            "x.svg",
            "x.html",
            "x.png.tmp",
            ".media-2-0a1b.png.tmp",
            "node.db",
        ] {
            assert_eq!(media_type_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn remote_enclosures_are_http_links() {
        let mut e = Entry::default();
        e.links.push(
            Link::new("enclosure", "https://files.example/a.jpg")
                .with_type("image/jpeg")
                .with_length(383_072),
        );
        e.links.push(Link::new("enclosure", "javascript:alert(1)"));
        e.links.push(Link::new("enclosure", "data:image/png;base64,AAAA"));
        e.links.push(Link::new("alternate", "https://files.example/page"));
        let got = entry_attachments(&e);
        assert_eq!(
            got,
            vec![Attachment {
                url: "https://files.example/a.jpg".into(),
                media_type: Some("image/jpeg".into()),
                length: Some(383_072),
            }]
        );
        assert!(!entry_sensitive(&e));
        e.categories.push(Category {
            term: "NSFW".into(),
            ..Category::default()
        });
        assert!(entry_sensitive(&e));
    }
}
