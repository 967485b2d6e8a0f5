//! Labels a person reads: column headings and enum values in Vietnamese (`lang=vi`, the default
//! of spreadsheets) or English. JSON keeps the codes; CSV and XLSX show labels.

use serde::Deserialize;
use utoipa::ToSchema;

/// The language of labels in CSV and XLSX answers (and of the labels in report JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// Vietnamese labels by code. A code with no entry shows as itself in Vietnamese too.
const VI: &[(&str, &str)] = &[
    // Levels and unit kinds.
    ("central", "Trung ương"),
    ("province", "Tỉnh, thành phố"),
    ("district", "Huyện"),
    // From 1 July 2025; before it, see `BEFORE`.
    ("commune", "Xã, phường, đặc khu"),
    ("village", "Thôn, tổ dân phố"),
    ("locality", "Địa phương"),
    ("party_body", "Cơ quan Đảng"),
    ("government_agency", "Cơ quan nhà nước"),
    ("front_or_association", "Mặt trận, đoàn thể"),
    ("armed_forces", "Lực lượng vũ trang"),
    ("school", "Trường học"),
    ("enterprise", "Doanh nghiệp"),
    ("other", "Khác"),
    ("active", "Đang hoạt động"),
    ("closed", "Đã kết thúc"),
    // Fields, kinds, subjects, special areas.
    ("economy", "Kinh tế"),
    ("culture_society", "Văn hóa - xã hội"),
    ("defense_security", "Quốc phòng - an ninh"),
    ("political_system", "Xây dựng hệ thống chính trị"),
    ("professional", "Chuyên môn, nghiệp vụ"),
    ("comprehensive", "Toàn diện"),
    ("by_field", "Theo lĩnh vực"),
    ("collective", "Tập thể"),
    ("individual", "Cá nhân"),
    ("religious", "Vùng tôn giáo"),
    ("ethnic_minority", "Vùng đồng bào dân tộc thiểu số"),
    ("industrial_zone", "Khu công nghiệp"),
    ("border", "Biên giới"),
    ("hot_spot", "Điểm nóng"),
    // Statuses.
    ("draft", "Dự thảo"),
    ("registered", "Đã đăng ký"),
    ("returned", "Trả lại"),
    ("in_progress", "Đang thực hiện"),
    ("recognized", "Được công nhận"),
    ("not_recognized", "Không được công nhận"),
    ("withdrawn", "Đã rút"),
    ("cancelled", "Đã hủy"),
    ("finalized", "Đã hoàn tất"),
    ("proposed", "Đề nghị"),
    ("issued", "Đã khen thưởng"),
    ("revoked", "Đã thu hồi"),
    // Evaluations and commendations.
    ("annual", "Hằng năm"),
    ("mid_term", "Sơ kết"),
    ("final", "Tổng kết"),
    ("excellent", "Xuất sắc"),
    ("good", "Tốt"),
    ("pass", "Đạt"),
    ("fail", "Không đạt"),
    ("recognize", "Công nhận"),
    ("not_recognize", "Không công nhận"),
    ("giay_khen", "Giấy khen"),
    ("bang_khen", "Bằng khen"),
    ("party_committee_standing_board", "Ban Thường vụ cấp ủy"),
    ("mass_mobilization_commission", "Ban Dân vận"),
    ("peoples_committee_chair", "Chủ tịch Ủy ban nhân dân"),
    ("fatherland_front", "Ủy ban Mặt trận Tổ quốc"),
    ("unit_head", "Thủ trưởng cơ quan, đơn vị"),
    ("units_with_plan_ratio", "Tỷ lệ đơn vị có kế hoạch"),
    ("units_with_model_ratio", "Tỷ lệ đơn vị có mô hình"),
    ("models_per_unit_per_year", "Số mô hình mỗi đơn vị mỗi năm"),
    // Column headings.
    ("id", "Mã định danh"),
    ("code", "Mã"),
    ("name", "Tên"),
    ("short_name", "Tên viết tắt"),
    ("kind", "Loại"),
    ("level", "Cấp"),
    ("division_type", "Loại đơn vị hành chính"),
    ("parent_id", "Đơn vị cấp trên"),
    ("status", "Trạng thái"),
    ("closed_on", "Ngày kết thúc"),
    ("created_at", "Ngày tạo"),
    ("updated_at", "Ngày cập nhật"),
    ("version", "Phiên bản"),
    ("title", "Tên mô hình, điển hình"),
    ("description", "Mô tả"),
    ("unit_id", "Đơn vị"),
    ("unit_code", "Mã đơn vị"),
    ("campaign_id", "Kế hoạch, phong trào"),
    ("parent_campaign_id", "Kế hoạch cấp trên"),
    ("starts_on", "Ngày bắt đầu"),
    ("ends_on", "Ngày kết thúc"),
    ("fields", "Lĩnh vực"),
    ("field", "Lĩnh vực"),
    ("subject", "Đối tượng"),
    ("person.full_name", "Họ và tên"),
    ("person.position", "Chức vụ"),
    ("person_full_name", "Họ và tên"),
    ("person_position", "Chức vụ"),
    ("special_areas", "Vùng đặc thù"),
    ("special_area", "Vùng đặc thù"),
    ("registered_level", "Cấp đăng ký"),
    ("year", "Năm"),
    ("objectives", "Mục tiêu"),
    ("replicated_from_id", "Nhân rộng từ"),
    ("replication_count", "Số lần được nhân rộng"),
    ("attachment_count", "Số tài liệu đính kèm"),
    ("latest_progress_on", "Báo cáo tiến độ gần nhất"),
    ("registered_on", "Ngày đăng ký"),
    ("issued_on", "Ngày ban hành"),
    ("evaluated_on", "Ngày đánh giá"),
    ("reported_on", "Ngày báo cáo"),
    ("text", "Nội dung"),
    ("model_id", "Mô hình"),
    ("evaluator_unit_id", "Đơn vị đánh giá"),
    ("review_kind", "Kỳ đánh giá"),
    ("total_score", "Tổng điểm"),
    ("verdict", "Xếp loại"),
    ("decision", "Kết luận"),
    ("supersedes_id", "Thay thế đánh giá"),
    ("finalized_at", "Ngày hoàn tất"),
    ("finalized_by", "Người hoàn tất"),
    ("evaluation_id", "Đánh giá"),
    ("recipient.subject", "Đối tượng khen"),
    ("recipient.unit_id", "Tập thể được khen"),
    ("recipient.full_name", "Cá nhân được khen"),
    ("form", "Hình thức"),
    ("issuer_unit_id", "Đơn vị khen thưởng"),
    ("issuer", "Đơn vị khen thưởng"),
    ("issuing_authority", "Cấp quyết định"),
    ("issuer_level", "Cấp khen thưởng"),
    ("issuer_snapshot.name", "Tên đơn vị khen thưởng"),
    ("issuer_snapshot.authority_title", "Chức danh người ký"),
    ("decision_number", "Số quyết định"),
    ("decided_on", "Ngày quyết định"),
    ("reason", "Lý do"),
    ("amount_vnd", "Số tiền (đồng)"),
    ("revocation.reason", "Lý do thu hồi"),
    ("revocation.decision_number", "Số quyết định thu hồi"),
    ("revocation.decided_on", "Ngày thu hồi"),
    ("occurred_at", "Thời điểm"),
    ("actor_sub", "Người thực hiện"),
    ("actor_unit_id", "Đơn vị người thực hiện"),
    ("action", "Hành động"),
    ("resource_type", "Loại đối tượng"),
    ("resource_id", "Đối tượng"),
    ("request_id", "Mã yêu cầu"),
    ("unit", "Đơn vị"),
    ("unit_name", "Tên đơn vị"),
    ("count", "Số lượng"),
    ("total", "Tổng cộng"),
    ("subtotal", "Cộng"),
    ("all", "Tất cả"),
    ("none", "Không có"),
    ("metric", "Chỉ tiêu"),
    ("unit_kind", "Loại đơn vị"),
    ("threshold", "Mức chỉ tiêu"),
    ("numerator", "Đạt được"),
    ("denominator", "Trên tổng số"),
    ("ratio", "Tỷ lệ"),
    ("met", "Đạt chỉ tiêu"),
    ("yes", "Có"),
    ("no", "Không"),
    ("commendations", "Khen thưởng"),
    ("indicators", "Chỉ số"),
    ("row", "Dòng"),
    ("own_models", "trực tiếp"),
    ("roles", "Vai trò"),
    ("client_id", "Mã ứng dụng (client_id)"),
    ("viewer", "Xem"),
    ("editor", "Biên tập"),
    ("reviewer", "Thẩm định"),
    ("approver", "Phê duyệt"),
    ("admin", "Quản trị"),
    ("unit.name", "Đơn vị"),
    ("unit.level", "Cấp"),
    ("criteria_set_code", "Bộ tiêu chí"),
    ("criteria", "Tiêu chí"),
    ("comment", "Nhận xét"),
    ("superseded_by_id", "Được thay thế bởi"),
    ("indicator_values", "Giá trị chỉ số"),
    ("recognized_on", "Ngày công nhận"),
    ("number", "Số quyết định"),
    ("summary", "Trích yếu"),
    ("signer.name", "Người ký"),
    ("signer.position", "Chức vụ người ký"),
    ("authority_title", "Cơ quan quyết định"),
    ("recipients.collectives", "Số tập thể được khen"),
    ("recipients.individuals", "Số cá nhân được khen"),
    ("revocation.number", "Số quyết định thu hồi"),
    ("decisions", "Quyết định"),
    // Actions, and the states of accounts, webhooks and deliveries.
    ("disabled", "Đã vô hiệu hóa"),
    ("issue", "Ban hành"),
    ("revoke", "Thu hồi"),
    ("submit", "Đăng ký"),
    ("accept", "Tiếp nhận"),
    ("return", "Trả lại"),
    ("withdraw", "Rút"),
    ("launch", "Phát động"),
    ("close", "Kết thúc"),
    ("cancel", "Hủy"),
    ("gte", "Đạt (≥)"),
    ("gt", "Trên (>)"),
    ("pending", "Đang chờ gửi"),
    ("delivered", "Đã gửi"),
    ("failed", "Gửi không thành công"),
    // Webhook events.
    ("campaign.launched", "Phát động kế hoạch"),
    ("model.registered", "Đăng ký mô hình"),
    ("model.recognized", "Công nhận mô hình"),
    ("model.not_recognized", "Không công nhận mô hình"),
    ("commendation.issued", "Ban hành khen thưởng"),
    ("commendation.revoked", "Thu hồi khen thưởng"),
    ("decision.issued", "Ban hành quyết định"),
    ("decision.revoked", "Thu hồi quyết định"),
    ("unit.reorganized", "Sắp xếp đơn vị"),
    ("attachment.added", "Thêm tài liệu đính kèm"),
    ("model", "Mô hình"),
    ("progress", "Báo cáo tiến độ"),
    ("campaign", "Phong trào"),
    ("photo", "Ảnh"),
    ("document", "Tài liệu"),
    ("decision_scan", "Bản quét quyết định"),
    ("image/jpeg", "Ảnh JPEG"),
    ("image/png", "Ảnh PNG"),
    ("image/webp", "Ảnh WebP"),
    ("image/heic", "Ảnh HEIC"),
    ("application/pdf", "PDF"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Văn bản Word (DOCX)"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Bảng tính Excel (XLSX)"),
    ("attachment.deleted", "Xóa tài liệu đính kèm"),
];

/// The day the 2025 reorganisation took effect: districts ended, and the commune level became
/// "xã, phường, đặc khu" (until then "xã, phường, thị trấn").
pub const REORGANISED_2025: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Labels that changed on a date: (code, the day the label in `VI` took over, the label before).
const BEFORE: &[(&str, chrono::NaiveDate, &str, &str)] =
    &[("commune", REORGANISED_2025, "Xã, phường, thị trấn", "Commune, ward, township")];

/// The label of `code` as it was written on `on`: what describes 2022 is labelled with 2022's
/// words.
pub fn label_on(lang: Lang, code: &str, on: chrono::NaiveDate) -> String {
    match BEFORE.iter().find(|(c, from, _, _)| *c == code && on < *from) {
        Some((_, _, vi, en)) => match lang {
            Lang::Vi => vi.to_string(),
            Lang::En => en.to_string(),
        },
        None => label(lang, code),
    }
}

/// The label of `code` in `lang`: the Vietnamese entry, or the code made readable in English.
pub fn label(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Vi => VI.iter().find(|(c, _)| *c == code).map(|(_, l)| l.to_string()).unwrap_or_else(|| code.to_string()),
        Lang::En => english(code),
    }
}

/// `in_progress` → "In progress", `person.full_name` → "Person full name".
fn english(code: &str) -> String {
    let words = code.replace(['_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The code a person typed as a label (in either language) or as the code itself, folded for case
/// and diacritics: what spreadsheet imports accept in enum columns.
/// A label's alternatives, separated by commas, each name the code too: "Tỉnh" and "thành phố"
/// for "Tỉnh, thành phố", as people head a column or fill a cell.
pub fn code_of<'a>(typed: &str, codes: &[&'a str]) -> Option<&'a str> {
    let typed = crate::http::text::fold(typed.trim());
    let names = |code: &str| {
        let vi = label(Lang::Vi, code);
        let mut names: Vec<String> = vec![code.to_string(), english(code), vi.clone()];
        names.extend(vi.split(',').map(str::to_string));
        names
    };
    codes.iter().copied().find(|code| names(code).iter().any(|n| crate::http::text::fold(n) == typed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_both_languages() {
        assert_eq!(label(Lang::Vi, "recognized"), "Được công nhận");
        assert_eq!(label(Lang::En, "in_progress"), "In progress");
        assert_eq!(label(Lang::Vi, "unknown_code"), "unknown_code");
    }

    #[test]
    fn codes_are_found_from_labels_ignoring_case_and_diacritics() {
        let subjects = ["collective", "individual"];
        assert_eq!(code_of("Tập thể", &subjects), Some("collective"));
        assert_eq!(code_of("ca nhan", &subjects), Some("individual"));
        assert_eq!(code_of("INDIVIDUAL", &subjects), Some("individual"));
        assert_eq!(code_of("someone", &subjects), None);
        let levels = ["province", "commune"];
        assert_eq!(code_of("Tỉnh", &levels), Some("province"));
        assert_eq!(code_of("phường", &levels), Some("commune"));
        assert_eq!(code_of("Xã, phường, đặc khu", &levels), Some("commune"));
    }

    #[test]
    fn every_vietnamese_label_is_given_once() {
        let mut codes: Vec<&str> = VI.iter().map(|(c, _)| *c).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "a code is labelled twice");
    }
}

#[cfg(test)]
mod every_code {
    use super::*;
    use crate::StrEnum;

    /// The codes of `E` that have no Vietnamese label, or an English one still in code form.
    fn unlabelled<E: StrEnum>() -> Vec<&'static str> {
        E::codes()
            .into_iter()
            .filter(|c| {
                let (vi, en) = (label(Lang::Vi, c), label(Lang::En, c));
                vi == *c || en.is_empty() || en.contains(['_', '.'])
            })
            .collect()
    }

    #[test]
    fn every_enum_code_has_a_vietnamese_and_an_english_label() {
        let mut missing = Vec::new();
        macro_rules! check {
            ($($e:ty),+ $(,)?) => {$(
                for code in unlabelled::<$e>() {
                    missing.push(format!("{}::{code}", stringify!($e)));
                }
            )+};
        }
        check!(
            crate::tree::Level,
            crate::tree::UnitKind,
            crate::tree::UnitStatus,
            crate::service_accounts::types::AccountStatus,
            crate::commendations::types::CommendationStatus,
            crate::commendations::types::CommendationAction,
            crate::commendations::types::Form,
            crate::commendations::types::IssuingAuthority,
            crate::models::types::ModelStatus,
            crate::models::types::ModelAction,
            crate::webhooks::types::EventType,
            crate::webhooks::types::WebhookStatus,
            crate::webhooks::types::DeliveryStatus,
            crate::decisions::types::DecisionStatus,
            crate::decisions::types::DecisionAction,
            crate::reports::types::ModelDimension,
            crate::reports::types::CommendationDimension,
            crate::reports::types::CommendationCount,
            crate::campaigns::types::CampaignStatus,
            crate::campaigns::types::CampaignAction,
            crate::campaigns::types::TargetMetric,
            crate::campaigns::types::Comparison,
            crate::vocabulary::Field,
            crate::vocabulary::Subject,
            crate::vocabulary::ModelKind,
            crate::vocabulary::SpecialArea,
            crate::vocabulary::ReviewKind,
            crate::evaluations::types::EvaluationStatus,
            crate::evaluations::types::Verdict,
            crate::evaluations::types::Decision,
            crate::public::types::RecordStatus,
            crate::attachments::types::ParentType,
            crate::attachments::types::AttachmentKind,
            crate::attachments::types::MediaType,
        );
        assert!(missing.is_empty(), "codes without labels: {missing:?}");
    }
}
