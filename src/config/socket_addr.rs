//! Listen addresses in config are `host:port` strings such as `127.0.0.1:8080`.

use std::net::SocketAddr;

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(value: &SocketAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_string())
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not an address; write it as IP:PORT, e.g. \"127.0.0.1:8080\""
        ))
    })
}
