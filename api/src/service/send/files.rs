//! A file an agent sends from their computer: its size, and its type read from its first
//! bytes (the `infer` crate's magic numbers), never from its name. What Messenger can show
//! goes out as an image, video or audio message; documents, archives and text as a file.
//! Anything else (programs, disk images, unknown binaries) is refused, as is a file whose
//! declared type names another kind than its content (a `.png` that is a PDF).
use bytes::Bytes;

use crate::error::ApiError;
use crate::facebook::graph::FileData as FileUpload;

/// Types Messenger shows in the thread, by kind.
const IMAGES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const VIDEOS: [&str; 4] = ["video/mp4", "video/quicktime", "video/webm", "video/x-m4v"];
const AUDIO: [&str; 6] = [
    "audio/mpeg",
    "audio/m4a",
    "audio/ogg",
    "audio/x-wav",
    "audio/aac",
    "audio/amr",
];
/// Sent as a file: documents, archives.
const DOCUMENTS: [&str; 14] = [
    "application/pdf",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/zip",
    "application/gzip",
    "application/x-7z-compressed",
];
const TEXT: &str = "text/plain";

/// Checks `bytes` (from a file named `name`, declared as `declared` by the browser or
/// client) against `limit`, and finds what it is. Every refusal is `BAD_USER_INPUT`.
pub fn check(
    name: &str,
    declared: Option<&str>,
    bytes: Bytes,
    limit: u64,
) -> Result<FileUpload, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_input("`file` is empty"));
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limit {
        return Err(ApiError::bad_input(format!(
            "`file` is {size} bytes; a file sent to a customer may be at most {limit} bytes"
        )));
    }
    let (kind, mime) = detect(&bytes).ok_or_else(|| {
        ApiError::bad_input(
            "`file` is of a type Messenger does not take: send an image (JPEG, PNG, GIF, WebP), \
             a video (MP4, MOV, WebM), audio (MP3, M4A, OGG, WAV, AAC, AMR), a document (PDF, \
             Office, OpenDocument, RTF, text) or an archive (ZIP, GZIP, 7z)",
        )
    })?;
    if let Some(declared) = declared
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("application/octet-stream"))
        && kind_of(declared) != kind
    {
        return Err(ApiError::bad_input(format!(
            "`file` says it is {} but its content is {mime}",
            clean(declared, 100)
        )));
    }
    Ok(FileUpload {
        kind,
        mime,
        name: file_name(name),
        bytes,
    })
}

/// The kind and type of a file from its content alone.
fn detect(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let Some(found) = infer::get(bytes) else {
        // Text has no magic number: valid UTF-8 without NULs is taken as text.
        let text = std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0);
        return text.then_some(("file", TEXT));
    };
    let mime = found.mime_type();
    let listed = |list: &[&'static str]| list.iter().copied().find(|m| *m == mime);
    listed(&IMAGES)
        .map(|m| ("image", m))
        .or_else(|| listed(&VIDEOS).map(|m| ("video", m)))
        .or_else(|| listed(&AUDIO).map(|m| ("audio", m)))
        .or_else(|| listed(&DOCUMENTS).map(|m| ("file", m)))
}

/// The Send API attachment type a declared MIME type stands for.
fn kind_of(mime: &str) -> &'static str {
    let top = mime
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match top.as_str() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "file",
    }
}

/// The last path component, without control characters, at most 200 characters; `file`
/// when nothing is left.
fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned = clean(last, 200);
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

fn clean(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    fn checked(
        name: &str,
        declared: Option<&str>,
        bytes: &'static [u8],
    ) -> Result<FileUpload, ApiError> {
        check(name, declared, Bytes::from_static(bytes), 1024)
    }

    #[test]
    fn types_come_from_the_content_not_the_name() {
        let png = checked("report.pdf.exe", None, PNG).unwrap();
        assert_eq!((png.kind, png.mime), ("image", "image/png"));
        let pdf = checked("photo.png", Some("application/octet-stream"), b"%PDF-1.7\n").unwrap();
        assert_eq!((pdf.kind, pdf.mime), ("file", "application/pdf"));
        let text = checked("notes", None, "Grüße\n".as_bytes()).unwrap();
        assert_eq!((text.kind, text.mime), ("file", "text/plain"));
    }

    #[test]
    fn programs_unknown_binaries_and_mismatches_are_refused() {
        assert!(checked("a.png", None, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_err());
        assert!(checked("a.bin", None, b"\0\x01\x02\x03garbage").is_err());
        assert!(checked("a.png", Some("image/png"), b"%PDF-1.7\n").is_err());
        assert!(checked("a.txt", Some("text/csv"), b"a,b\n").is_ok());
        assert!(checked("", None, b"").is_err());
        assert!(check("a.txt", None, Bytes::from(vec![b'a'; 1025]), 1024).is_err());
        assert!(check("a.txt", None, Bytes::from(vec![b'a'; 1024]), 1024).is_ok());
    }

    #[test]
    fn names_lose_their_path_and_control_characters() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Users\\a\\b\u{0}c\n.txt"), "bc.txt");
        assert_eq!(file_name("..."), "file");
        assert_eq!(file_name(&"é".repeat(300)).chars().count(), 200);
    }
}
