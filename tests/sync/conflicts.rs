//! Same-field and different-field edits on both sides, under each conflict policy.
