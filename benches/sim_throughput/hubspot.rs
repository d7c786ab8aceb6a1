//! HubSpot simulator: batch upserts of 100 by a custom unique property, several clients.

pub async fn run() {}
