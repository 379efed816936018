//! Porter's Atom mixin feed, read as Porter reads it: each `<entry>` is one
//! version of one mixin, named by its first `<category term>`, its version
//! the `<content>` text, its files the `<link rel="download" href>`s. An
//! entry without a name, a version or a valid `<updated>` is skipped; when
//! several entries give the same mixin and version, the one updated last
//! counts.
//!
//! Where we differ: Porter's entries link one native binary per platform
//! (`exec-linux-amd64`, ...); a mixin here is one WebAssembly component for
//! every platform, so the entry's download link whose file name is
//! `<name>.wasm` is the mixin (a relative href is resolved against the
//! feed's URL). Entries that only link native binaries are read without
//! error; installing one says what it lacks. `latest` is the highest
//! released version (not a prerelease) that has a `.wasm`; `canary` is the
//! entry whose version is `canary`, as in Porter.

use anyhow::{Result, bail};
use quick_xml::events::{BytesStart, Event};

use super::{Url, VersionRequest};

/// One `<entry>`: a version of a mixin and its downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub mixin: String,
    /// As written in `<content>`: `v1.2.3`, `canary`, ...
    pub version: String,
    pub updated: String,
    pub downloads: Vec<Url>,
}

impl FeedEntry {
    /// The link to `<mixin>.wasm`, if the entry has one.
    pub fn wasm(&self) -> Option<&Url> {
        let file = format!("{}.wasm", self.mixin);
        self.downloads.iter().find(|url| {
            url.path_segments()
                .and_then(|mut s| s.next_back())
                .is_some_and(|last| last == file)
        })
    }

    fn semver(&self) -> Option<semver::Version> {
        let text = self.version.strip_prefix('v').unwrap_or(&self.version);
        semver::Version::parse(text).ok()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Feed {
    pub entries: Vec<FeedEntry>,
}

/// The entry chosen for an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChoice {
    pub version: String,
    pub url: Url,
}

impl Feed {
    /// Parses a feed downloaded from `feed_url` (relative links resolve
    /// against it).
    pub fn parse(text: &str, feed_url: &Url) -> Result<Feed> {
        let mut reader = quick_xml::Reader::from_str(text);
        let mut entries: Vec<FeedEntry> = Vec::new();
        let mut root_seen = false;
        // The entry being read, and the element whose text is wanted.
        let mut entry: Option<RawEntry> = None;
        let mut text_of: Option<&'static str> = None;
        loop {
            let event = reader.read_event().map_err(|e| {
                anyhow::anyhow!(
                    "it is not an Atom feed: XML error at byte {}: {e}",
                    reader.error_position()
                )
            })?;
            match event {
                Event::Start(e) | Event::Empty(e) if !root_seen => {
                    if e.local_name().as_ref() != b"feed" {
                        bail!(
                            "it is not an Atom feed: its root element is <{}>, not <feed>",
                            String::from_utf8_lossy(e.name().as_ref())
                        );
                    }
                    root_seen = true;
                }
                Event::Start(e) => {
                    let name = e.local_name();
                    match (name.as_ref(), &mut entry) {
                        (b"entry", None) => entry = Some(RawEntry::default()),
                        (b"content", Some(_)) => text_of = Some("content"),
                        (b"updated", Some(_)) => text_of = Some("updated"),
                        (_, Some(raw)) => raw.element(&e)?,
                        _ => {}
                    }
                }
                Event::Empty(e) => {
                    if let Some(raw) = &mut entry {
                        raw.element(&e)?;
                    }
                }
                Event::Text(t) => {
                    if let (Some(field), Some(raw)) = (text_of, &mut entry) {
                        raw.text(field, &t.xml_content().unwrap_or_default());
                    }
                }
                Event::CData(t) => {
                    if let (Some(field), Some(raw)) = (text_of, &mut entry) {
                        raw.text(field, &String::from_utf8_lossy(&t));
                    }
                }
                Event::GeneralRef(r) => {
                    if let (Some(field), Some(raw)) = (text_of, &mut entry) {
                        let c = match r.resolve_char_ref().ok().flatten() {
                            Some(c) => c.to_string(),
                            None => match &*r {
                                b"amp" => "&".into(),
                                b"lt" => "<".into(),
                                b"gt" => ">".into(),
                                b"quot" => "\"".into(),
                                b"apos" => "'".into(),
                                _ => String::new(),
                            },
                        };
                        raw.text(field, &c);
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"entry" => {
                        if let Some(raw) = entry.take()
                            && let Some(done) = raw.finish(feed_url)
                        {
                            match entries
                                .iter_mut()
                                .find(|x| x.mixin == done.mixin && x.version == done.version)
                            {
                                Some(known) if known.updated >= done.updated => {}
                                Some(known) => *known = done,
                                None => entries.push(done),
                            }
                        }
                    }
                    b"content" | b"updated" => text_of = None,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        if !root_seen {
            bail!("it is not an Atom feed: it has no <feed> element");
        }
        Ok(Feed { entries })
    }

    /// The download for `name` at `version`, or why there is none.
    pub fn choose(&self, name: &str, version: &VersionRequest) -> Result<FeedChoice> {
        let mine: Vec<&FeedEntry> = self.entries.iter().filter(|e| e.mixin == name).collect();
        if mine.is_empty() {
            let mut names: Vec<&str> = self.entries.iter().map(|e| e.mixin.as_str()).collect();
            names.sort();
            names.dedup();
            bail!(
                "the feed has no mixin {name} (it offers: {}): check the name, or the feed URL",
                list_or_none(&names)
            );
        }
        let offered = || {
            let mut versions: Vec<&str> = mine.iter().map(|e| e.version.as_str()).collect();
            versions.sort();
            list_or_none(&versions)
        };
        let entry = match version {
            VersionRequest::Canary => mine.iter().find(|e| e.version == "canary").copied(),
            VersionRequest::Exact { version, label } => mine
                .iter()
                .find(|e| &e.version == label)
                .or_else(|| mine.iter().find(|e| e.semver().as_ref() == Some(version)))
                .copied(),
            VersionRequest::Latest => {
                let released = mine
                    .iter()
                    .filter_map(|e| Some((e.semver()?, *e)))
                    .filter(|(v, _)| v.pre.is_empty());
                let with_wasm = released
                    .clone()
                    .filter(|(_, e)| e.wasm().is_some())
                    .max_by(|a, b| a.0.cmp(&b.0));
                match (with_wasm, released.count()) {
                    (Some((_, e)), _) => Some(e),
                    (None, 0) => bail!(
                        "cannot resolve latest: the feed has no released version of {name} (it offers: {}); \
                         pick one with --version",
                        offered()
                    ),
                    (None, _) => bail!(
                        "cannot resolve latest: no released version of {name} in the feed has a {name}.wasm \
                         (it offers {}, as native binaries, which are Porter's Go mixins): \
                         porter installs mixins that are WebAssembly components",
                        offered()
                    ),
                }
            }
        };
        let Some(entry) = entry else {
            bail!(
                "the feed has no {name} {version} (it offers: {}): pick one of those with --version",
                offered()
            );
        };
        match entry.wasm() {
            Some(url) => Ok(FeedChoice {
                version: entry.version.clone(),
                url: url.clone(),
            }),
            None => {
                let files: Vec<&str> = entry
                    .downloads
                    .iter()
                    .filter_map(|u| u.path_segments().and_then(|mut s| s.next_back()))
                    .collect();
                bail!(
                    "the feed's entry for {name} {} links no {name}.wasm, only {}: those are native \
                     binaries of Porter's Go mixin; porter installs a mixin built as a WebAssembly \
                     component, published as {name}.wasm in the entry",
                    entry.version,
                    list_or_none(&files)
                )
            }
        }
    }
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

#[derive(Default)]
struct RawEntry {
    category: Option<String>,
    content: String,
    updated: String,
    hrefs: Vec<String>,
}

impl RawEntry {
    fn element(&mut self, e: &BytesStart<'_>) -> Result<()> {
        let attr = |name: &[u8]| -> Option<String> {
            e.attributes()
                .flatten()
                .find(|a| a.key.local_name().as_ref() == name)
                .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        };
        match e.local_name().as_ref() {
            b"category" if self.category.is_none() => {
                self.category = Some(attr(b"term").unwrap_or_default());
            }
            b"link" if attr(b"rel").as_deref() == Some("download") => {
                if let Some(href) = attr(b"href") {
                    self.hrefs.push(href);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, field: &str, text: &str) {
        match field {
            "content" => self.content.push_str(text),
            _ => self.updated.push_str(text),
        }
    }

    /// Porter's rules: a name, a version, and links only with a valid
    /// `updated` (RFC 3339) and a parseable href.
    fn finish(self, feed_url: &Url) -> Option<FeedEntry> {
        let mixin = self.category.filter(|c| !c.is_empty())?;
        let version = self.content.trim().to_string();
        if version.is_empty() {
            return None;
        }
        let updated = self.updated.trim().to_string();
        let downloads = if looks_like_rfc3339(&updated) {
            self.hrefs
                .iter()
                .filter(|h| !h.is_empty())
                .filter_map(|h| feed_url.join(h).ok())
                .collect()
        } else {
            Vec::new()
        };
        Some(FeedEntry {
            mixin,
            version,
            updated,
            downloads,
        })
    }
}

/// `2013-02-10T00:00:00Z`, with optional fractions and offset.
fn looks_like_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_url() -> Url {
        Url::parse("https://example.com/mixins/atom.xml").unwrap()
    }

    const OURS: &str = r#"<feed xmlns="http://www.w3.org/2005/Atom">
      <entry><id>a</id><updated>2026-01-01T00:00:00Z</updated><category term="exec"/>
        <content>v1.0.0</content><link rel="download" href="v1.0.0/exec.wasm"/></entry>
      <entry><id>b</id><updated>2026-01-02T00:00:00Z</updated><category term="exec"/>
        <content>v1.1.0</content><link rel="download" href="https://cdn.example.com/v1.1.0/exec.wasm"/></entry>
      <entry><id>c</id><updated>2026-01-03T00:00:00Z</updated><category term="exec"/>
        <content>v2.0.0-rc.1</content><link rel="download" href="v2.0.0-rc.1/exec.wasm"/></entry>
      <entry><id>d</id><updated>2026-01-04T00:00:00Z</updated><category term="exec"/>
        <content>v3.0.0</content><link rel="download" href="v3.0.0/exec-linux-amd64"/></entry>
      <entry><id>e</id><updated>2026-01-05T00:00:00Z</updated><category term="exec"/>
        <content>canary</content><link rel="download" href="canary/exec.wasm"/></entry>
      <entry><id>f</id><updated>not a time</updated><category term="exec"/>
        <content>v9.0.0</content><link rel="download" href="v9.0.0/exec.wasm"/></entry>
      <entry><id>g</id><updated>2026-01-05T00:00:00Z</updated><content>v1.0.0</content></entry>
    </feed>"#;

    #[test]
    fn latest_is_the_highest_release_with_a_wasm() {
        let feed = Feed::parse(OURS, &feed_url()).unwrap();
        let latest = feed.choose("exec", &VersionRequest::Latest).unwrap();
        assert_eq!(latest.version, "v1.1.0");
        assert_eq!(
            latest.url.as_str(),
            "https://cdn.example.com/v1.1.0/exec.wasm"
        );
        let canary = feed.choose("exec", &VersionRequest::Canary).unwrap();
        assert_eq!(
            canary.url.as_str(),
            "https://example.com/mixins/canary/exec.wasm"
        );
        let one = feed
            .choose("exec", &VersionRequest::parse("1.0.0").unwrap())
            .unwrap();
        assert_eq!(
            one.url.as_str(),
            "https://example.com/mixins/v1.0.0/exec.wasm"
        );
    }

    #[test]
    fn what_a_feed_lacks_is_said() {
        let feed = Feed::parse(OURS, &feed_url()).unwrap();
        let err = feed
            .choose("exec", &VersionRequest::parse("v3.0.0").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("links no exec.wasm, only exec-linux-amd64"),
            "{err}"
        );
        // An entry with an unparseable `updated` has no downloads, as in Porter.
        let err = feed
            .choose("exec", &VersionRequest::parse("v9.0.0").unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("links no exec.wasm"), "{err}");
        let err = feed
            .choose("exec", &VersionRequest::parse("v4.0.0").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the feed has no exec v4.0.0 (it offers: canary, v1.0.0"),
            "{err}"
        );
        let err = feed
            .choose("helm", &VersionRequest::Latest)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no mixin helm (it offers: exec)"), "{err}");
    }

    #[test]
    fn not_a_feed_is_refused() {
        let err = Feed::parse("<html><body/></html>", &feed_url())
            .unwrap_err()
            .to_string();
        assert!(err.contains("root element is <html>"), "{err}");
        assert!(Feed::parse("not xml at all <", &feed_url()).is_err());
    }
}
