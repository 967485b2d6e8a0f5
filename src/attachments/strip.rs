//! Removal of location and camera metadata from photos before they are made public.
//!
//! A phone photo usually carries the GPS position where it was taken; for a photo of a
//! household's work, that is where the family lives. What is published must not carry it, so
//! each format is rewritten without the segments, chunks or items that may hold such metadata,
//! keeping what is needed to show the picture with its colours. A file that cannot be parsed is
//! not guessed at: the caller refuses to publish it.
//!
//! The input is hostile until proven otherwise: every length read from the file is checked
//! against the bytes actually there, and nothing here may panic.

use std::collections::HashSet;

use super::types::MediaType;

/// The photo without its metadata: `None` when `media` is not a photo or the bytes cannot be
/// parsed as one (the caller then refuses to publish it).
pub fn strip(media: MediaType, bytes: &[u8]) -> Option<Vec<u8>> {
    match media {
        MediaType::Jpeg => jpeg(bytes),
        MediaType::Png => png(bytes),
        MediaType::Webp => webp(bytes),
        MediaType::Heic => heic(bytes),
        // Documents are never published as photos, so there is nothing safe to return.
        MediaType::Pdf | MediaType::Docx | MediaType::Xlsx => None,
    }
}

/// JPEG: metadata lives in marker segments ahead of the image data, so segments are copied one
/// by one, leaving out those that may hold it. Anything after the end-of-image marker is dropped
/// too: phones append whole files there (motion-photo videos, depth maps) with their own metadata.
fn jpeg(b: &[u8]) -> Option<Vec<u8>> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pos = 2;
    loop {
        // A marker is 0xFF and a code; any number of 0xFF fill bytes may precede the code.
        if *b.get(pos)? != 0xFF {
            return None;
        }
        while *b.get(pos)? == 0xFF {
            pos += 1;
        }
        let code = *b.get(pos)?;
        pos += 1;
        match code {
            // 0xFF 0x00 is a stuffed byte inside image data, never a marker here.
            0x00 => return None,
            // TEM, RSTn and SOI stand alone, without a length.
            0x01 | 0xD0..=0xD8 => out.extend_from_slice(&[0xFF, code]),
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            _ => {
                let end = pos.checked_add(usize::from(be16(b, pos)?))?;
                let segment = b.get(pos..end)?;
                // The length counts its own two bytes: anything shorter is malformed.
                let payload = segment.get(2..)?;
                if keep_jpeg_segment(code, payload) {
                    out.extend_from_slice(&[0xFF, code]);
                    out.extend_from_slice(segment);
                }
                pos = end;
                if code == 0xDA {
                    // Start of scan: the image data follows, copied as it is up to the next marker.
                    let next = scan_end(b, pos);
                    out.extend_from_slice(b.get(pos..next)?);
                    if next >= b.len() {
                        // Many cameras' files lack the final EOI; they still show fine.
                        return Some(out);
                    }
                    pos = next;
                }
            }
        }
    }
}

/// Whether a segment is needed to show the image rather than describe it. APP1 holds Exif (with
/// the GPS position and the camera serial) and XMP; the other APPn hold vendor metadata, except
/// the ICC colour profile (APP2) and Adobe's colour-transform flag (APP14), without which colours
/// come out wrong. Comments may hold anything.
fn keep_jpeg_segment(code: u8, payload: &[u8]) -> bool {
    match code {
        // JFIF's header only: a JFXX extension carries a thumbnail, which may show what the
        // photo's metadata would have.
        0xE0 => payload.starts_with(b"JFIF\0"),
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xEE => payload.starts_with(b"Adobe"),
        0xE1..=0xEF | 0xFE => false,
        _ => true,
    }
}

/// Where the entropy-coded data starting at `from` ends: at the first 0xFF that begins a marker
/// other than a restart, or at the end of the file. Inside that data 0xFF is always followed by
/// 0x00 (a stuffed byte) or a restart marker, so image data cannot be mistaken for a marker.
fn scan_end(b: &[u8], from: usize) -> usize {
    let mut pos = from;
    while let Some(&byte) = b.get(pos) {
        if byte == 0xFF {
            let mut code = pos + 1;
            while b.get(code) == Some(&0xFF) {
                code += 1;
            }
            match b.get(code).copied() {
                Some(0x00 | 0xD0..=0xD7) => {
                    pos = code + 1;
                    continue;
                }
                Some(_) => return pos,
                None => return b.len(),
            }
        }
        pos += 1;
    }
    b.len()
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// PNG: chunks are self-contained with their own CRC, so dropping whole chunks leaves the others
/// valid. Only the chunks that draw the picture (and its animation) and say its colours are
/// kept: Exif, text (where XMP and comments live), times, and any private or unknown chunk go.
/// Data after IEND is dropped.
fn png(b: &[u8]) -> Option<Vec<u8>> {
    if !b.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let len = usize::try_from(be32(b, pos)?).ok()?;
        let kind: [u8; 4] = b.get(pos + 4..pos + 8)?.try_into().ok()?;
        // Length, type, data, CRC.
        let end = pos.checked_add(12)?.checked_add(len)?;
        let chunk = b.get(pos..end)?;
        if pos == PNG_SIGNATURE.len() && kind != *b"IHDR" {
            return None;
        }
        const KEPT: [&[u8; 4]; 16] = [
            b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD",
            b"cICP", b"acTL", b"fcTL", b"fdAT",
        ];
        if KEPT.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        // Without IEND the file was cut short: refused rather than published half-read.
        if kind == *b"IEND" {
            return Some(out);
        }
        pos = end;
    }
}

/// In a VP8X chunk's flags, the bits that announce EXIF and XMP chunks; left set once the chunks
/// are gone, readers would look for them and some would reject the file.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

/// WebP: a RIFF container whose chunks other than the picture's (VP8, VP8L, VP8X, ALPH, ANIM,
/// ANMF, ICCP) can simply be dropped, EXIF and XMP among them, provided the VP8X flags and the
/// RIFF size are brought in line with what is left.
fn webp(b: &[u8]) -> Option<Vec<u8>> {
    if b.get(..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let riff_end = usize::try_from(le32(b, 4)?).ok()?.checked_add(8)?;
    if riff_end <= 12 {
        return None;
    }
    // Chunks are read within the size RIFF declares; a shorter file was cut short.
    let body = b.get(..riff_end)?;
    let mut out = Vec::with_capacity(riff_end);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut pos = 12;
    while pos < body.len() {
        let fourcc: [u8; 4] = body.get(pos..pos + 4)?.try_into().ok()?;
        let size = usize::try_from(le32(body, pos + 4)?).ok()?;
        // FourCC, size, data, and a pad byte when the data is of odd length.
        let end = pos.checked_add(8)?.checked_add(size)?.checked_add(size % 2)?;
        let chunk = body.get(pos..end)?;
        match &fourcc {
            b"VP8X" => {
                let flags = out.len() + 8;
                out.extend_from_slice(chunk);
                *out.get_mut(flags)? &= !(VP8X_EXIF | VP8X_XMP);
            }
            b"VP8 " | b"VP8L" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => out.extend_from_slice(chunk),
            _ => {}
        }
        pos = end;
    }
    let size = u32::try_from(out.len() - 8).ok()?;
    out.get_mut(4..8)?.copy_from_slice(&size.to_le_bytes());
    Some(out)
}

/// HEIC: items are located by absolute file offsets (`iloc`), so removing bytes would mean
/// rewriting every offset. Instead the Exif and XMP items' bytes are overwritten with zeros in a
/// copy of the same length: every offset stays valid, and nothing of the metadata is left.
fn heic(b: &[u8]) -> Option<Vec<u8>> {
    let meta = find_box(b, 0, b.len(), b"meta")?;
    // `meta` is a FullBox: its children follow a version and flags.
    let children = meta.body.checked_add(4)?;
    let iinf = find_box(b, children, meta.end, b"iinf")?;
    let iloc = find_box(b, children, meta.end, b"iloc")?;
    let hidden = metadata_items(b, &iinf)?;
    let extents = item_extents(b, &iloc, &hidden)?;
    if hidden.is_empty() {
        return Some(b.to_vec());
    }
    let idat = find_box(b, children, meta.end, b"idat");
    let mut out = b.to_vec();
    for extent in extents {
        let (origin, limit) = match extent.method {
            // An offset in the file.
            0 => (0, out.len()),
            // An offset in the data of `meta`'s `idat` box.
            1 => {
                let idat = idat.as_ref()?;
                (idat.body, idat.end)
            }
            // Data built from other items cannot be blanked in place: refuse rather than leak.
            _ => return None,
        };
        // Length 0 means "up to the end": blanking that much would destroy the image.
        if extent.length == 0 {
            return None;
        }
        let start = origin.checked_add(usize::try_from(extent.offset).ok()?)?;
        let end = start.checked_add(usize::try_from(extent.length).ok()?)?;
        if end > limit {
            return None;
        }
        out.get_mut(start..end)?.fill(0);
    }
    Some(out)
}

/// One ISO-BMFF box: its type, where its payload starts and where the box ends.
struct Bmff {
    kind: [u8; 4],
    body: usize,
    end: usize,
}

/// The box at `pos`, which must end by `limit` (the end of its parent).
fn bmff_box(b: &[u8], pos: usize, limit: usize) -> Option<Bmff> {
    let size = be32(b, pos)?;
    let kind: [u8; 4] = b.get(pos.checked_add(4)?..pos.checked_add(8)?)?.try_into().ok()?;
    let (body, end) = match size {
        // The box runs to the end of its parent (of the file, at the top level).
        0 => (pos.checked_add(8)?, limit),
        // A 64-bit size follows the type.
        1 => (pos.checked_add(16)?, pos.checked_add(usize::try_from(be64(b, pos.checked_add(8)?)?).ok()?)?),
        n => (pos.checked_add(8)?, pos.checked_add(usize::try_from(n).ok()?)?),
    };
    let body = if kind == *b"uuid" { body.checked_add(16)? } else { body };
    if body > end || end > limit {
        return None;
    }
    Some(Bmff { kind, body, end })
}

/// The first box of type `kind` among the boxes from `from` to `to`; `None` also when a box on the
/// way is malformed, since what follows it cannot be trusted.
fn find_box(b: &[u8], from: usize, to: usize, kind: &[u8; 4]) -> Option<Bmff> {
    let mut pos = from;
    while pos < to {
        let found = bmff_box(b, pos, to)?;
        if found.kind == *kind {
            return Some(found);
        }
        pos = found.end;
    }
    None
}

/// The IDs of the items holding Exif or XMP, read from the `infe` entries of `iinf`.
fn metadata_items(b: &[u8], iinf: &Bmff) -> Option<HashSet<u32>> {
    let data = b.get(..iinf.end)?;
    let (count, mut pos) = if *data.get(iinf.body)? == 0 {
        (u32::from(be16(data, iinf.body + 4)?), iinf.body + 6)
    } else {
        (be32(data, iinf.body + 4)?, iinf.body + 8)
    };
    let mut ids = HashSet::new();
    // Each entry is a box of at least 8 bytes, so a hostile count runs out of bytes quickly.
    for _ in 0..count {
        let infe = bmff_box(data, pos, iinf.end)?;
        if infe.kind != *b"infe" {
            return None;
        }
        if let Some(id) = metadata_item(data.get(..infe.end)?, infe.body)? {
            ids.insert(id);
        }
        pos = infe.end;
    }
    Some(ids)
}

/// The item ID of an `infe` entry whose payload starts at `body`, if the item is metadata: type
/// `Exif`, or `mime` (XMP; other MIME items are metadata too, never the picture itself).
fn metadata_item(infe: &[u8], body: usize) -> Option<Option<u32>> {
    let pos = body.checked_add(4)?;
    let (id, pos) = match *infe.get(body)? {
        0 | 1 => {
            // Old entries name a content type instead of an item type: item_name, then it.
            let id = be16(infe, pos)?;
            let content_type = infe.get(pos + 4..)?.split(|&c| c == 0).nth(1);
            let xmp = content_type == Some(b"application/rdf+xml".as_slice());
            return Some(xmp.then_some(u32::from(id)));
        }
        2 => (u32::from(be16(infe, pos)?), pos + 2),
        3 => (be32(infe, pos)?, pos + 4),
        _ => return None,
    };
    // After the ID comes the protection index, then the item type.
    let item_type: [u8; 4] = infe.get(pos + 2..pos + 6)?.try_into().ok()?;
    Some(matches!(&item_type, b"Exif" | b"mime").then_some(id))
}

/// Where part of an item's data lies: `method` 0 is an offset in the file, 1 an offset in the
/// `idat` box of `meta`, 2 a reference to other items.
struct Extent {
    method: u16,
    offset: u64,
    length: u64,
}

/// The extents of the items in `wanted`, read from `iloc`.
fn item_extents(b: &[u8], iloc: &Bmff, wanted: &HashSet<u32>) -> Option<Vec<Extent>> {
    let data = b.get(..iloc.end)?;
    let version = *data.get(iloc.body)?;
    if version > 2 {
        return None;
    }
    let mut pos = iloc.body + 4;
    let sizes = *data.get(pos)?;
    let more = *data.get(pos + 1)?;
    pos += 2;
    let offset_size = usize::from(sizes >> 4);
    let length_size = usize::from(sizes & 0x0F);
    let base_offset_size = usize::from(more >> 4);
    let index_size = if version == 0 { 0 } else { usize::from(more & 0x0F) };
    let id_size = if version == 2 { 4 } else { 2 };
    let count = uint(data, pos, id_size)?;
    pos += id_size;
    let mut extents = Vec::new();
    // Each item takes at least 6 bytes, so a hostile count runs out of bytes quickly.
    for _ in 0..count {
        let id = u32::try_from(uint(data, pos, id_size)?).ok()?;
        pos += id_size;
        let method = if version == 0 {
            0
        } else {
            pos += 2;
            be16(data, pos - 2)? & 0x0F
        };
        // Skip data_reference_index.
        pos += 2;
        let base = uint(data, pos, base_offset_size)?;
        pos += base_offset_size;
        let mut extent_count = be16(data, pos)?;
        pos += 2;
        let extent_size = index_size + offset_size + length_size;
        // Extents with no fields are all alike: one is enough, and 65535 of them would cost time.
        if extent_size == 0 {
            extent_count = extent_count.min(1);
        }
        for _ in 0..extent_count {
            let offset = uint(data, pos.checked_add(index_size)?, offset_size)?;
            let length = uint(data, pos.checked_add(index_size + offset_size)?, length_size)?;
            pos = pos.checked_add(extent_size)?;
            if wanted.contains(&id) {
                extents.push(Extent { method, offset: base.checked_add(offset)?, length });
            }
        }
    }
    Some(extents)
}

/// The `n`-byte (at most 8) big-endian unsigned integer at `at`; 0 when `n` is 0, as ISO-BMFF
/// means by a field of size 0.
fn uint(b: &[u8], at: usize, n: usize) -> Option<u64> {
    if n > 8 {
        return None;
    }
    let bytes = b.get(at..at.checked_add(n)?)?;
    Some(bytes.iter().fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte)))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    u16::try_from(uint(b, at, 2)?).ok()
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    u32::try_from(uint(b, at, 4)?).ok()
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    uint(b, at, 8)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|window| window == needle)
    }

    fn join(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn segment(code: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, code];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    #[test]
    fn jpeg_loses_exif_and_comments_but_keeps_colour_and_image() {
        let soi: &[u8] = &[0xFF, 0xD8];
        let fill: &[u8] = &[0xFF];
        let app0 = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let exif = segment(0xE1, b"Exif\0\0MM\0*GPSLatitude 21.02N");
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01fake profile");
        let com = segment(0xFE, b"taken at home");
        let dqt = segment(0xDB, &[0; 65]);
        let sos = segment(0xDA, &[1, 1, 0, 0, 63, 0]);
        let scan: &[u8] = &[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF, 0xD9];
        let header = join(&[soi, &app0, &exif, &icc, fill, &com, &dqt, &sos]);
        let file = join(&[&header, scan, b"GPSLatitude in an appended video"]);

        let out = strip(MediaType::Jpeg, &file).unwrap();
        assert_eq!(out, join(&[soi, &app0, &icc, &dqt, &sos, scan]));
        assert!(out.starts_with(&[0xFF, 0xD8]));
        assert!(!contains(&out, b"GPSLatitude"));
        assert!(!contains(&out, b"taken at home"));
        assert!(contains(&out, &icc) && contains(&out, &app0));
        assert!(out.ends_with(&join(&[&sos, scan])));

        for cut in 0..header.len() {
            assert!(strip(MediaType::Jpeg, &file[..cut]).is_none(), "cut at {cut}");
        }
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let crc = crc32(&c[4..]);
        c.extend_from_slice(&crc.to_be_bytes());
        c
    }

    #[test]
    fn png_loses_exif_and_text_chunks() {
        let ihdr = png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        let gama = png_chunk(b"gAMA", &45455u32.to_be_bytes());
        let exif = png_chunk(b"eXIf", b"MM\0*GPS 21.02N");
        let text = png_chunk(b"tEXt", b"Comment\0GPS 21.02N 105.8E");
        let idat = png_chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]);
        let iend = png_chunk(b"IEND", b"");
        let file = join(&[PNG_SIGNATURE, &ihdr, &gama, &exif, &text, &idat, &iend]);

        let out = strip(MediaType::Png, &file).unwrap();
        assert_eq!(out, join(&[PNG_SIGNATURE, &ihdr, &gama, &idat, &iend]));
        assert!(!contains(&out, b"GPS") && !contains(&out, b"eXIf") && !contains(&out, b"tEXt"));

        for cut in 0..file.len() {
            assert!(strip(MediaType::Png, &file[..cut]).is_none(), "cut at {cut}");
        }
        let text_first = join(&[PNG_SIGNATURE, &text, &ihdr, &idat, &iend]);
        assert!(strip(MediaType::Png, &text_first).is_none());
    }

    fn riff_chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = fourcc.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn riff(chunks: &[&[u8]]) -> Vec<u8> {
        let body = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_le_bytes());
        f.extend_from_slice(b"WEBP");
        f.extend_from_slice(&body);
        f
    }

    #[test]
    fn webp_loses_exif_and_xmp_chunks_and_flags() {
        let vp8x = riff_chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let exif = riff_chunk(b"EXIF", b"MM\0*GPS 21.02N");
        let vp8l = riff_chunk(b"VP8L", &[0x2F, 0, 0, 0, 0x10]);
        let xmp = riff_chunk(b"XMP ", b"<x:xmpmeta GPS/>");
        let file = riff(&[&vp8x, &exif, &vp8l, &xmp]);

        let out = strip(MediaType::Webp, &file).unwrap();
        let cleared = riff_chunk(b"VP8X", &[0; 10]);
        assert_eq!(out, riff(&[&cleared, &vp8l]));
        assert_eq!(out[20] & (0x08 | 0x04), 0);
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize, out.len() - 8);
        assert!(!contains(&out, b"GPS") && !contains(&out, b"EXIF"));

        for cut in 0..file.len() {
            assert!(strip(MediaType::Webp, &file[..cut]).is_none(), "cut at {cut}");
        }
    }

    fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
        bmff(kind, &join(&[&[version, 0, 0, 0], body]))
    }

    /// A HEIC whose items (ID, type, data) lie one after another in `mdat`, and where each
    /// item's data starts.
    fn heic_file(items: &[(u16, &[u8; 4], &[u8])]) -> (Vec<u8>, Vec<usize>) {
        let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
        let hdlr = full_box(b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let mut entries = u16::try_from(items.len()).unwrap().to_be_bytes().to_vec();
        for (id, kind, _) in items {
            entries.extend_from_slice(&full_box(b"infe", 2, &join(&[&id.to_be_bytes(), &[0, 0], &kind[..], b"\0"])));
        }
        let iinf = full_box(b"iinf", 0, &entries);
        let meta = |first_offset: usize| -> Vec<u8> {
            // offset_size 4, length_size 4, base_offset_size 0.
            let mut iloc = vec![0x44u8, 0x00];
            iloc.extend_from_slice(&u16::try_from(items.len()).unwrap().to_be_bytes());
            let mut offset = first_offset;
            for (id, _, data) in items {
                iloc.extend_from_slice(&id.to_be_bytes());
                // data_reference_index 0, one extent.
                iloc.extend_from_slice(&[0, 0, 0, 1]);
                iloc.extend_from_slice(&u32::try_from(offset).unwrap().to_be_bytes());
                iloc.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
                offset += data.len();
            }
            full_box(b"meta", 0, &join(&[&hdlr, &iinf, &full_box(b"iloc", 0, &iloc)]))
        };
        // The offsets do not change the length of `meta`, so it can be measured first.
        let first_offset = ftyp.len() + meta(0).len() + 8;
        let payload: Vec<u8> = items.iter().flat_map(|(_, _, data)| data.iter().copied()).collect();
        let file = join(&[&ftyp, &meta(first_offset), &bmff(b"mdat", &payload)]);
        let mut starts = Vec::new();
        let mut at = first_offset;
        for (_, _, data) in items {
            starts.push(at);
            at += data.len();
        }
        (file, starts)
    }

    #[test]
    fn heic_exif_item_is_blanked_in_place() {
        let hevc: &[u8] = b"\0\0\0\x10fake hevc frame";
        let exif: &[u8] = b"\0\0\0\x06Exif\0\0MM\0*GPSLatitude 21.02N";
        let (file, starts) = heic_file(&[(1, b"hvc1", hevc), (2, b"Exif", exif)]);
        assert!(contains(&file, b"GPSLatitude"));

        let out = strip(MediaType::Heic, &file).unwrap();
        assert_eq!(out.len(), file.len());
        assert!(!contains(&out, b"GPSLatitude"));
        assert_eq!(&out[starts[0]..starts[0] + hevc.len()], hevc);
        assert_eq!(&out[..starts[1]], &file[..starts[1]]);
        assert!(out[starts[1]..].iter().all(|&byte| byte == 0));

        for cut in 0..file.len() {
            assert!(strip(MediaType::Heic, &file[..cut]).is_none(), "cut at {cut}");
        }

        let (plain, _) = heic_file(&[(1, b"hvc1", hevc)]);
        assert_eq!(strip(MediaType::Heic, &plain), Some(plain.clone()));
    }

    #[test]
    fn documents_are_not_photos() {
        assert_eq!(strip(MediaType::Pdf, b"%PDF-1.7"), None);
        assert_eq!(strip(MediaType::Docx, b"PK\x03\x04"), None);
        assert_eq!(strip(MediaType::Xlsx, b"PK\x03\x04"), None);
    }
}
