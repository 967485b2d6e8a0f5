//! What a certificate says, line by line, as a Vietnamese office lays out a giấy khen or bằng
//! khen: plain functions over the records, so the wording is tested without a PDF.

use chrono::{Datelike, NaiveDate};

use crate::commendations::types::{Form, IssuingAuthority};
use crate::units::types::UnitKind;

/// The heading a body puts on its documents: a Party body heads them with its Party organisation
/// and "ĐẢNG CỘNG SẢN VIỆT NAM"; a State body or the Fatherland Front with the national motto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    Party,
    State,
}

impl Heading {
    pub fn of(authority: IssuingAuthority, issuer_kind: UnitKind) -> Heading {
        match authority {
            IssuingAuthority::PartyCommitteeStandingBoard | IssuingAuthority::MassMobilizationCommission => {
                Heading::Party
            }
            IssuingAuthority::PeoplesCommitteeChair | IssuingAuthority::FatherlandFront => Heading::State,
            IssuingAuthority::UnitHead if issuer_kind == UnitKind::PartyBody => Heading::Party,
            IssuingAuthority::UnitHead => Heading::State,
        }
    }

    /// The lines at the top right.
    pub fn motto(self) -> Vec<String> {
        match self {
            Heading::Party => vec!["ĐẢNG CỘNG SẢN VIỆT NAM".into()],
            Heading::State => vec!["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(), "Độc lập - Tự do - Hạnh phúc".into()],
        }
    }
}

/// The records a certificate is made from: the issued commendation, its decision and issuer.
#[derive(Debug, Clone)]
pub struct Facts {
    pub authority: IssuingAuthority,
    /// As the decision writes it, e.g. "Ban Dân vận Huyện ủy Bình Lục".
    pub authority_title: String,
    /// The issuer's name when the decision was issued, and its kind.
    pub issuer_name: String,
    pub issuer_kind: UnitKind,
    /// Where the issuer is: the name of its locality (the nearest one up the tree).
    pub place: String,
    pub form: Form,
    /// A collective's name, or an individual's full name.
    pub recipient_name: String,
    /// An individual's position and unit; none for a collective.
    pub recipient_detail: Option<String>,
    pub achievement: String,
    pub decision_number: String,
    pub decided_on: NaiveDate,
    pub signer_position: Option<String>,
    pub signer_name: Option<String>,
    /// The public verification record the QR code opens.
    pub verify_url: String,
}

/// A certificate's text, in reading order of its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Top left: the body's organisation and name, capitals.
    pub issuer_lines: Vec<String>,
    /// Top right.
    pub motto_lines: Vec<String>,
    /// Above the form: the authority, capitals, then "tặng".
    pub awarded_by: String,
    pub form: String,
    pub recipient_name: String,
    pub recipient_detail: Option<String>,
    pub achievement: String,
    /// "Bình Lục, ngày 12 tháng 10 năm 2020".
    pub place_and_date: String,
    /// "Quyết định số 13-QĐ/ĐUK ngày 12/10/2020".
    pub decision: String,
    pub signer_position: Option<String>,
    pub signer_name: Option<String>,
    pub verify_url: String,
}

pub fn certificate(f: Facts) -> Certificate {
    let heading = Heading::of(f.authority, f.issuer_kind);
    let title = upper(&f.authority_title);
    let issuer_lines = match heading {
        Heading::Party if !starts_with_ci(&f.issuer_name, "Đảng bộ") => {
            vec![format!("ĐẢNG BỘ {}", upper(&f.issuer_name)), title.clone()]
        }
        Heading::Party => vec![upper(&f.issuer_name), title.clone()],
        Heading::State => vec![title.clone()],
    };
    Certificate {
        issuer_lines,
        motto_lines: heading.motto(),
        awarded_by: title,
        form: match f.form {
            Form::GiayKhen => "GIẤY KHEN".into(),
            Form::BangKhen => "BẰNG KHEN".into(),
        },
        recipient_name: f.recipient_name,
        recipient_detail: f.recipient_detail,
        achievement: f.achievement,
        place_and_date: format!("{}, {}", f.place, long_date(f.decided_on)),
        decision: format!("Quyết định số {} ngày {}", f.decision_number, f.decided_on.format("%d/%m/%Y")),
        signer_position: f.signer_position.map(|p| upper(&p)),
        signer_name: f.signer_name,
        verify_url: f.verify_url,
    }
}

/// A date as administrative documents write it (Decree 30/2020/NĐ-CP): days below 10 and months
/// below 3 take a leading zero, "ngày 05 tháng 02 năm 2020", "ngày 12 tháng 10 năm 2020".
pub fn long_date(d: NaiveDate) -> String {
    let month = if d.month() < 3 { format!("{:02}", d.month()) } else { d.month().to_string() };
    format!("ngày {:02} tháng {} năm {}", d.day(), month, d.year())
}

/// The place of a locality's name: "Huyện Bình Lục" (huyện) → "Bình Lục".
pub fn place_of(name: &str, division_type: Option<&str>) -> String {
    let Some(division) = division_type.filter(|d| !d.is_empty()) else {
        return name.to_string();
    };
    match name.char_indices().nth(division.chars().count()) {
        Some((at, ' ')) if name[..at].to_lowercase() == division.to_lowercase() => name[at..].trim().to_string(),
        _ => name.to_string(),
    }
}

fn upper(s: &str) -> String {
    s.trim().to_uppercase()
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.to_lowercase().starts_with(&prefix.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(authority: IssuingAuthority, issuer_name: &str, kind: UnitKind) -> Facts {
        Facts {
            authority,
            authority_title: "Ban Dân vận Huyện ủy Bình Lục".into(),
            issuer_name: issuer_name.into(),
            issuer_kind: kind,
            place: "Bình Lục".into(),
            form: Form::GiayKhen,
            recipient_name: "Nguyễn Thị Hoa".into(),
            recipient_detail: Some("Trưởng thôn, Thôn Đông".into()),
            achievement: "Có thành tích xuất sắc".into(),
            decision_number: "13-QĐ/ĐUK".into(),
            decided_on: NaiveDate::from_ymd_opt(2020, 10, 12).unwrap(),
            signer_position: Some("Trưởng ban".into()),
            signer_name: Some("Trần Văn Bình".into()),
            verify_url: "https://portal.example.vn/api/v1/public/commendations/x".into(),
        }
    }

    #[test]
    fn a_party_body_heads_with_its_organisation_and_the_party() {
        let c = certificate(facts(IssuingAuthority::MassMobilizationCommission, "Huyện Bình Lục", UnitKind::Locality));
        assert_eq!(c.issuer_lines, ["ĐẢNG BỘ HUYỆN BÌNH LỤC", "BAN DÂN VẬN HUYỆN ỦY BÌNH LỤC"]);
        assert_eq!(c.motto_lines, ["ĐẢNG CỘNG SẢN VIỆT NAM"]);
        assert_eq!(c.form, "GIẤY KHEN");
        assert_eq!(c.place_and_date, "Bình Lục, ngày 12 tháng 10 năm 2020");
        assert_eq!(c.decision, "Quyết định số 13-QĐ/ĐUK ngày 12/10/2020");
        assert_eq!(c.signer_position.as_deref(), Some("TRƯỞNG BAN"));
        let bloc = certificate(facts(IssuingAuthority::UnitHead, "Đảng bộ Khối các cơ quan tỉnh", UnitKind::PartyBody));
        assert_eq!(bloc.issuer_lines[0], "ĐẢNG BỘ KHỐI CÁC CƠ QUAN TỈNH");
        assert_eq!(bloc.motto_lines, ["ĐẢNG CỘNG SẢN VIỆT NAM"]);
    }

    #[test]
    fn a_state_body_or_the_front_heads_with_the_national_motto() {
        for authority in [IssuingAuthority::PeoplesCommitteeChair, IssuingAuthority::FatherlandFront] {
            let c = certificate(facts(authority, "Huyện Bình Lục", UnitKind::Locality));
            assert_eq!(c.issuer_lines.len(), 1);
            assert_eq!(c.motto_lines, ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]);
        }
        let school = certificate(facts(IssuingAuthority::UnitHead, "Trường THPT Việt Bắc", UnitKind::School));
        assert_eq!(school.motto_lines.len(), 2);
    }

    #[test]
    fn dates_and_places_are_written_as_documents_write_them() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(long_date(d(2020, 2, 5)), "ngày 05 tháng 02 năm 2020");
        assert_eq!(long_date(d(2020, 3, 5)), "ngày 05 tháng 3 năm 2020");
        assert_eq!(long_date(d(2025, 12, 31)), "ngày 31 tháng 12 năm 2025");
        assert_eq!(place_of("Huyện Bình Lục", Some("huyện")), "Bình Lục");
        assert_eq!(place_of("Thành phố Hà Nội", Some("thành phố")), "Hà Nội");
        assert_eq!(place_of("Thị trấn Quế", Some("thị trấn")), "Quế");
        assert_eq!(place_of("Tỉnh Lạng Sơn", None), "Tỉnh Lạng Sơn");
        assert_eq!(place_of("Lạng Sơn", Some("tỉnh")), "Lạng Sơn");
    }
}
