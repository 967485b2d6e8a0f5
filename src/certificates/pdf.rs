//! Certificates as PDF: A4 landscape, one page each, Noto Serif embedded (subset), text that
//! `pdftotext` reads back exactly, and the QR code drawn as vector squares.

use std::sync::OnceLock;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use qrcode::{EcLevel, QrCode};
use unicode_normalization::UnicodeNormalization;

use crate::error::ApiError;

use super::layout::Certificate;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/NotoSerif-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSerif-Bold.ttf");

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 297.0 * MM;
const PAGE_H: f32 = 210.0 * MM;
const RED: (u8, u8, u8) = (178, 18, 24);

/// A font for krilla to embed, and the same font for rustybuzz to shape: krilla does not expose
/// its measurements, and centring a line needs its width. One shaping serves both.
struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Face {
        let font = Font::new(data.into(), 0).expect("the embedded font is valid");
        let shaper = rustybuzz::Face::from_slice(data, 0).expect("the embedded font is valid");
        let units_per_em = f32::from(shaper.units_per_em() as u16);
        Face { font, shaper, units_per_em }
    }

    /// The glyphs of one left-to-right line, advances in ems, and its width in ems.
    fn shape(&self, text: &str) -> (Vec<KrillaGlyph>, f32) {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let (infos, positions) = (shaped.glyph_infos(), shaped.glyph_positions());
        let em = self.units_per_em;
        let mut width = 0.0;
        let glyphs = (0..shaped.len())
            .map(|i| {
                let start = infos[i].cluster as usize;
                // A glyph's text runs to where the next cluster starts: its ToUnicode entry.
                let end = infos[i + 1..]
                    .iter()
                    .find(|g| g.cluster != infos[i].cluster)
                    .map_or(text.len(), |g| g.cluster as usize);
                let p = positions[i];
                width += p.x_advance as f32 / em;
                KrillaGlyph::new(
                    GlyphId::new(infos[i].glyph_id),
                    p.x_advance as f32 / em,
                    p.x_offset as f32 / em,
                    p.y_offset as f32 / em,
                    p.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect();
        (glyphs, width)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text).1 * size
    }
}

fn faces() -> &'static (Face, Face) {
    static FACES: OnceLock<(Face, Face)> = OnceLock::new();
    FACES.get_or_init(|| (Face::load(REGULAR), Face::load(BOLD)))
}

/// One PDF, a page per certificate.
pub fn render(certificates: &[Certificate]) -> Result<Vec<u8>, ApiError> {
    let (regular, bold) = faces();
    let mut doc = Document::new();
    for c in certificates {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| ApiError::internal("bad page size"))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        Page { s: &mut surface, regular, bold }.draw(c)?;
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| ApiError::internal(format!("the PDF could not be written: {e:?}")))
}

struct Page<'a, 'b> {
    s: &'a mut Surface<'b>,
    regular: &'a Face,
    bold: &'a Face,
}

impl Page<'_, '_> {
    fn draw(&mut self, c: &Certificate) -> Result<(), ApiError> {
        self.borders();
        let (left, right, centre) = (78.0 * MM, PAGE_W - 82.0 * MM, PAGE_W / 2.0);
        self.colour((0, 0, 0));

        // The heading: the body at the left, the motto at the right, each over a short rule.
        let mut y = 27.0 * MM;
        for (i, line) in c.issuer_lines.iter().enumerate() {
            let face = if i + 1 == c.issuer_lines.len() { self.bold } else { self.regular };
            y = self.paragraph(face, line, 12.5, 9.0, left, 120.0 * MM, y, 2);
        }
        self.rule(left, y - 3.0 * MM, 22.0 * MM);
        let mut y = 27.0 * MM;
        for (i, line) in c.motto_lines.iter().enumerate() {
            y = self.paragraph(self.bold, line, if i == 0 { 12.5 } else { 13.0 }, 9.0, right, 120.0 * MM, y, 1);
        }
        let motto_width = self.bold.width(&nfc(c.motto_lines.last().map_or("", |l| l.as_str())), 13.0);
        self.rule(right, y - 3.0 * MM, motto_width.min(60.0 * MM));

        // The award: who gives it, the form, to whom, for what.
        let y = self.paragraph(self.bold, &c.awarded_by, 15.0, 10.0, centre, 230.0 * MM, 62.0 * MM, 2);
        self.centred(self.regular, "tặng", 14.0, centre, y);
        self.colour(RED);
        self.centred(self.bold, &c.form, 40.0, centre, y + 17.0 * MM);
        self.colour((0, 0, 0));
        let mut y = self.paragraph(self.bold, &c.recipient_name, 22.0, 12.0, centre, 230.0 * MM, y + 32.0 * MM, 2);
        if let Some(detail) = &c.recipient_detail {
            y = self.paragraph(self.regular, detail, 15.0, 10.0, centre, 230.0 * MM, y, 2);
        }
        self.paragraph(self.regular, &c.achievement, 15.0, 8.0, centre, 230.0 * MM, y + 2.0 * MM, 4);

        // The signature block at the right.
        let y = self.paragraph(self.regular, &c.place_and_date, 13.0, 9.0, right, 110.0 * MM, 160.0 * MM, 1);
        if let Some(position) = &c.signer_position {
            self.paragraph(self.bold, position, 13.0, 9.0, right, 110.0 * MM, y, 2);
        }
        if let Some(name) = &c.signer_name {
            self.paragraph(self.bold, name, 14.0, 9.0, right, 110.0 * MM, 192.0 * MM, 1);
        }

        // The decision and the way to check it, at the left.
        let qr_side = 27.0 * MM;
        self.qr(&c.verify_url, 20.0 * MM, PAGE_H - 17.0 * MM - qr_side, qr_side)?;
        let x = 20.0 * MM + qr_side + 3.0 * MM;
        self.left(self.regular, &c.decision, 11.0, x, 176.0 * MM, 110.0 * MM);
        self.left(self.regular, "Quét mã QR để kiểm tra giấy khen, bằng khen này:", 9.0, x, 184.0 * MM, 110.0 * MM);
        self.left(self.regular, &c.verify_url, 7.5, x, 189.0 * MM, 110.0 * MM);
        Ok(())
    }

    fn colour(&mut self, (r, g, b): (u8, u8, u8)) {
        self.s.set_stroke(None);
        self.s.set_fill(Some(Fill { paint: rgb::Color::new(r, g, b).into(), ..Default::default() }));
    }

    fn borders(&mut self) {
        for (inset, width) in [(9.0, 2.2), (12.0, 0.6)] {
            let mut path = PathBuilder::new();
            if let Some(r) =
                Rect::from_xywh(inset * MM, inset * MM, PAGE_W - 2.0 * inset * MM, PAGE_H - 2.0 * inset * MM)
            {
                path.push_rect(r);
            }
            if let Some(path) = path.finish() {
                self.s.set_fill(None);
                let (r, g, b) = RED;
                self.s.set_stroke(Some(Stroke { paint: rgb::Color::new(r, g, b).into(), width, ..Default::default() }));
                self.s.draw_path(&path);
            }
        }
        self.s.set_stroke(None);
    }

    /// A short rule centred on `cx`, as headings have under them.
    fn rule(&mut self, cx: f32, y: f32, width: f32) {
        let mut path = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(cx - width / 2.0, y, width, 0.7) {
            path.push_rect(r);
        }
        if let Some(path) = path.finish() {
            self.s.draw_path(&path);
        }
    }

    fn centred(&mut self, face: &Face, text: &str, size: f32, cx: f32, baseline: f32) {
        let text = nfc(text);
        let (glyphs, width) = face.shape(&text);
        let at = Point::from_xy(cx - width * size / 2.0, baseline);
        self.s.draw_glyphs(at, &glyphs, face.font.clone(), &text, size, false);
    }

    /// One line from `x`, made smaller if it would run past `max_width`.
    fn left(&mut self, face: &Face, text: &str, size: f32, x: f32, baseline: f32, max_width: f32) {
        let text = nfc(text);
        let (glyphs, width) = face.shape(&text);
        let size = if width * size > max_width { max_width / width } else { size };
        self.s.draw_glyphs(Point::from_xy(x, baseline), &glyphs, face.font.clone(), &text, size, false);
    }

    /// Text centred on `cx` in lines of at most `max_width`, at `size` or smaller (down to
    /// `min_size`) so that it takes at most `max_lines` lines; the baseline after the last line.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        face: &Face,
        text: &str,
        size: f32,
        min_size: f32,
        cx: f32,
        max_width: f32,
        baseline: f32,
        max_lines: usize,
    ) -> f32 {
        let text = nfc(text);
        let mut size = size;
        let mut lines = wrap(face, &text, size, max_width);
        while lines.len() > max_lines && size > min_size {
            size -= 0.5;
            lines = wrap(face, &text, size, max_width);
        }
        let mut y = baseline;
        for line in &lines {
            // A word longer than the line is drawn smaller rather than past the border.
            let width = face.width(line, size);
            let fitted = if width > max_width { size * max_width / width } else { size };
            self.centred(face, line, fitted, cx, y);
            y += size * 1.45;
        }
        y
    }

    /// The QR code: dark modules as filled squares (runs merged), on white, with the four-module
    /// quiet zone the standard asks for, `side` wide in all.
    fn qr(&mut self, data: &str, x: f32, y: f32, side: f32) -> Result<(), ApiError> {
        const QUIET: usize = 4;
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
            .map_err(|e| ApiError::internal(format!("the QR code could not be made: {e}")))?;
        let n = code.width();
        let module = side / (n + 2 * QUIET) as f32;
        let colours = code.to_colors();
        self.colour((255, 255, 255));
        let mut background = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, side, side) {
            background.push_rect(r);
        }
        if let Some(path) = background.finish() {
            self.s.draw_path(&path);
        }
        let mut dark = PathBuilder::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colours[row * n + col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && colours[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let (rx, ry) = (x + (QUIET + start) as f32 * module, y + (QUIET + row) as f32 * module);
                if let Some(r) = Rect::from_xywh(rx, ry, (col - start) as f32 * module, module) {
                    dark.push_rect(r);
                }
            }
        }
        self.colour((0, 0, 0));
        if let Some(path) = dark.finish() {
            self.s.draw_path(&path);
        }
        Ok(())
    }
}

/// Records may hold decomposed Vietnamese; the font's precomposed glyphs then extract as the
/// decomposed text. NFC keeps what a reader copies equal to what was typed.
fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// Greedy word wrap at spaces by measured width.
fn wrap(face: &Face, text: &str, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if line.is_empty() || face.width(&candidate, size) <= max_width {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_within_the_width_and_short_text_stays_whole() {
        let (regular, _) = faces();
        let text = "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024, góp phần xây dựng \
                    hệ thống chính trị ở cơ sở trong sạch, vững mạnh";
        let lines = wrap(regular, text, 15.0, 100.0 * MM);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| regular.width(l, 15.0) <= 100.0 * MM));
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap(regular, "GIẤY KHEN", 40.0, 200.0 * MM), ["GIẤY KHEN"]);
    }

    #[test]
    fn every_vietnamese_letter_has_a_glyph() {
        let (regular, bold) = faces();
        let letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";
        for face in [regular, bold] {
            for c in letters.chars().chain(letters.to_uppercase().chars()) {
                let (glyphs, _) = face.shape(&c.to_string());
                assert!(glyphs.iter().all(|g| g.glyph_id.to_u32() != 0), "no glyph for {c}");
            }
        }
    }
}
