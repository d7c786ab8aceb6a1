//! Read models for operators: the queries behind `hubsync status`, a record's timeline, the
//! record finder, lag history, the queue gauges and the demo's reports. They read several tables at once, and
//! write none.

pub mod demo;
pub mod history;
pub mod queues;
pub mod record;
pub mod status;
pub mod timeline;
