//! The tree's vocabulary: levels, kinds and statuses of units.

str_enum! {
    /// A tier of the hierarchy, from the top: central, province, district (abolished on
    /// 1 July 2025), commune (and grassroots-equivalent bases), village.
    pub enum Level {
        Central = "central",
        Province = "province",
        District = "district",
        Commune = "commune",
        Village = "village",
    }
}

impl Level {
    /// 0 for central … 4 for village: a larger rank is a lower level.
    pub fn rank(self) -> u8 {
        match self {
            Level::Central => 0,
            Level::Province => 1,
            Level::District => 2,
            Level::Commune => 3,
            Level::Village => 4,
        }
    }

    /// Whether `self` is at `other`'s level or above it.
    pub fn at_or_above(self, other: Level) -> bool {
        self.rank() <= other.rank()
    }
}

str_enum! {
    /// What kind of organisation a unit is. A `locality` stands for the whole political system
    /// of a province, district or commune; the others are bodies with bases of their own.
    pub enum UnitKind {
        Locality = "locality",
        PartyBody = "party_body",
        GovernmentAgency = "government_agency",
        FrontOrAssociation = "front_or_association",
        ArmedForces = "armed_forces",
        School = "school",
        Enterprise = "enterprise",
        Other = "other",
    }
}

str_enum! {
    pub enum UnitStatus {
        Active = "active",
        Closed = "closed",
    }
}
