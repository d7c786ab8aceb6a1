//! Changes the portal went through, as webhook subscribers hear about them.

/// What happened to a record.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    Creation,
    PropertyChange {
        name: String,
        value: String,
    },
    Deletion,
    PrivacyDeletion,
    Restore,
    Merge {
        primary: u64,
        merged: Vec<u64>,
        new_id: u64,
        properties_moved: usize,
    },
    AssociationChange {
        /// E.g. `CONTACT_TO_COMPANY`.
        association_type: String,
        to_id: u64,
        removed: bool,
        primary: bool,
    },
}

/// One change to one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub type_id: String,
    pub object_id: u64,
    pub kind: ChangeKind,
    pub occurred_at: i64,
    pub source_type: String,
    pub source_id: Option<String>,
}

impl ChangeKind {
    /// The suffix of the subscription type: `creation`, `propertyChange`, ….
    pub fn event_name(&self) -> &'static str {
        match self {
            ChangeKind::Creation => "creation",
            ChangeKind::PropertyChange { .. } => "propertyChange",
            ChangeKind::Deletion => "deletion",
            ChangeKind::PrivacyDeletion => "privacyDeletion",
            ChangeKind::Restore => "restore",
            ChangeKind::Merge { .. } => "merge",
            ChangeKind::AssociationChange { .. } => "associationChange",
        }
    }
}
