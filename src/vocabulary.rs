//! The movement's vocabulary, shared by campaigns, models, evaluations and reports.

str_enum! {
    /// Lĩnh vực: the field a model works in, or a campaign covers.
    pub enum Field {
        Economy = "economy",
        CultureSociety = "culture_society",
        DefenseSecurity = "defense_security",
        PoliticalSystem = "political_system",
        Professional = "professional",
    }
}

str_enum! {
    /// Tập thể / cá nhân: who a model belongs to.
    pub enum Subject {
        Collective = "collective",
        Individual = "individual",
    }
}

str_enum! {
    /// Toàn diện / theo từng lĩnh vực.
    pub enum ModelKind {
        Comprehensive = "comprehensive",
        ByField = "by_field",
    }
}

str_enum! {
    /// Vùng đặc thù: special areas whose models are counted apart.
    pub enum SpecialArea {
        Religious = "religious",
        EthnicMinority = "ethnic_minority",
        IndustrialZone = "industrial_zone",
        Border = "border",
        HotSpot = "hot_spot",
        Other = "other",
    }
}

str_enum! {
    /// Sơ kết / tổng kết: the review points of a campaign.
    pub enum ReviewKind {
        Annual = "annual",
        MidTerm = "mid_term",
        Final = "final",
    }
}
