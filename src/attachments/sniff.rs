//! What a file is, read from its bytes: never from its name or from what the client declares.
//! Only the types of `MediaType` pass; everything else is refused before it is stored.

use std::io::{Read, Seek};

use unicode_normalization::UnicodeNormalization;

use super::types::MediaType;

/// How many leading bytes the magic-byte checks need.
pub const HEAD: usize = 64;

/// The type of a file whose first bytes are `head`; for a ZIP container, `zip` is opened to
/// tell a Word document from a workbook (and from any other ZIP, which is refused).
pub fn media_type<R: Read + Seek>(head: &[u8], zip: impl FnOnce() -> std::io::Result<R>) -> Option<MediaType> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaType::Png);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(MediaType::Webp);
    }
    if is_heic(head) {
        return Some(MediaType::Heic);
    }
    if head.starts_with(b"%PDF-") {
        return Some(MediaType::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return office(zip().ok()?);
    }
    None
}

/// An ISO-BMFF file (`ftyp` box first) whose brands say HEIF with HEVC images.
fn is_heic(head: &[u8]) -> bool {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.min(head.len());
    if end < 16 {
        return false;
    }
    const HEVC: [&[u8]; 6] = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"];
    // The major brand, then the compatible brands after the minor version.
    std::iter::once(&head[8..12]).chain(head[16..end].chunks_exact(4)).any(|brand| HEVC.contains(&brand))
}

/// DOCX and XLSX are ZIP packages with a content-types part and their main part. A package
/// that says it holds more than `MAX_ENTRIES` files (or needs ZIP64) is refused before its
/// directory is read: a document has hundreds, and a crafted ZIP of empty entries would cost
/// memory for each.
fn office<R: Read + Seek>(mut reader: R) -> Option<MediaType> {
    const MAX_ENTRIES: u16 = 10_000;
    if entries(&mut reader)? > MAX_ENTRIES {
        return None;
    }
    reader.seek(std::io::SeekFrom::Start(0)).ok()?;
    let archive = zip::ZipArchive::new(reader).ok()?;
    let has = |name: &str| archive.index_for_name(name).is_some();
    if !has("[Content_Types].xml") {
        return None;
    }
    if has("word/document.xml") {
        Some(MediaType::Docx)
    } else if has("xl/workbook.xml") {
        Some(MediaType::Xlsx)
    } else {
        None
    }
}

/// How many files a ZIP's end-of-central-directory record says it holds (in its last 64 KiB);
/// `None` when there is none, or it defers to ZIP64 (0xFFFF).
fn entries<R: Read + Seek>(reader: &mut R) -> Option<u16> {
    const TAIL: u64 = 22 + 65_535;
    let len = reader.seek(std::io::SeekFrom::End(0)).ok()?;
    let start = len.saturating_sub(TAIL);
    reader.seek(std::io::SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::new();
    reader.take(TAIL).read_to_end(&mut tail).ok()?;
    let at = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let total = u16::from_le_bytes([*tail.get(at + 10)?, *tail.get(at + 11)?]);
    (total != u16::MAX).then_some(total)
}

/// A file name fit to store and to send back in `Content-Disposition`: the last path segment,
/// NFC, without control or reserved characters, at most 120 characters, ending in an
/// extension of what the content is.
pub fn clean_file_name(raw: Option<&str>, media: MediaType) -> String {
    let last = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .nfc()
        .map(|c| if c.is_control() || is_invisible(c) || "\"<>:|?*;".contains(c) { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c == ' ');
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if media.extensions().contains(&ext.to_lowercase().as_str()) => {
            (stem.trim_end_matches(['.', ' ']), ext.to_lowercase())
        }
        _ => (cleaned, media.extensions()[0].to_string()),
    };
    let stem: String = stem.chars().take(120 - ext.len() - 1).collect();
    let stem = if stem.trim().is_empty() { "attachment".to_string() } else { stem };
    format!("{stem}.{ext}")
}

/// Characters that change how a name is shown without being seen: bidirectional overrides
/// (`invoice\u{202E}gpj.exe` shows as `invoiceexe.jpg`), zero-width ones, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// `Content-Disposition` for a download (RFC 6266): an ASCII `filename` for old clients and the
/// exact name as `filename*` (RFC 8187).
pub fn content_disposition(disposition: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect::<String>()
        .nfd()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\' && *c != '%')
        .collect();
    let ascii = if ascii.trim().is_empty() { "attachment".to_string() } else { ascii };
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sniff(bytes: &[u8]) -> Option<MediaType> {
        media_type(&bytes[..bytes.len().min(HEAD)], || Ok(Cursor::new(bytes.to_vec())))
    }

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for n in names {
            w.start_file(
                *n,
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
            std::io::Write::write_all(&mut w, b"<x/>").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn the_accepted_types_are_told_by_their_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), Some(MediaType::Png));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "), Some(MediaType::Webp));
        assert_eq!(sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), Some(MediaType::Heic));
        assert_eq!(sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic"), Some(MediaType::Heic));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", "word/document.xml"])), Some(MediaType::Docx));
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", "xl/workbook.xml"])), Some(MediaType::Xlsx));
    }

    #[test]
    fn anything_else_is_refused_whatever_it_is_called() {
        assert_eq!(sniff(b"MZ\x90\x00\x03"), None, "a Windows program");
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avif"), None, "AVIF is not HEIC");
        assert_eq!(sniff(&zip_with(&["evil.sh"])), None, "a plain ZIP");
        assert_eq!(sniff(b"PK\x03\x04truncated"), None);
        let many: Vec<String> = (0..10_001).map(|i| format!("e{i}")).collect();
        let mut names: Vec<&str> = vec!["[Content_Types].xml", "word/document.xml"];
        names.extend(many.iter().map(String::as_str));
        assert_eq!(sniff(&zip_with(&names)), None, "a package of ten thousand files is no document");
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_lose_folders_and_controls_and_take_the_contents_extension() {
        assert_eq!(clean_file_name(Some("../../etc/passwd"), MediaType::Pdf), "passwd.pdf");
        assert_eq!(clean_file_name(Some("C:\\Ảnh\\Mô hình.JPG"), MediaType::Jpeg), "Mô hình.jpg");
        assert_eq!(clean_file_name(Some("report.pdf.exe"), MediaType::Pdf), "report.pdf.exe.pdf");
        assert_eq!(clean_file_name(Some("a\u{0}b\r\nc\".jpeg"), MediaType::Jpeg), "a b c.jpeg");
        assert_eq!(clean_file_name(Some("..."), MediaType::Png), "attachment.png");
        assert_eq!(clean_file_name(Some("hoa-don\u{202E}gpj.exe"), MediaType::Pdf), "hoa-don gpj.exe.pdf");
        assert_eq!(clean_file_name(None, MediaType::Heic), "attachment.heic");
        assert_eq!(clean_file_name(Some(&"x".repeat(300)), MediaType::Docx).chars().count(), 120);
    }

    #[test]
    fn a_disposition_names_the_file_both_ways() {
        assert_eq!(
            content_disposition("attachment", "Quyết định 12.pdf"),
            "attachment; filename=\"Quyet dinh 12.pdf\"; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%2012.pdf"
        );
    }
}
