//! Salesforce record ids: 15-character case-sensitive bodies with key prefixes, and the
//! 18-character case-insensitive form with its checksum suffix.

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// The instance and reserved characters after the key prefix (`8d` pod, `0` reserved).
const POD: &str = "8d0";

/// The 3-character checksum that turns a 15-character id into its 18-character form.
pub fn checksum(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            SUFFIX[bits] as char
        })
        .collect()
}

/// The id with this key prefix and sequence number, in 18-character form.
pub fn make(prefix: &str, sequence: u64) -> String {
    let mut digits = [b'0'; 9];
    let mut rest = sequence;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let id15 = format!("{prefix}{POD}{}", std::str::from_utf8(&digits).expect("ascii"));
    let suffix = checksum(&id15);
    id15 + &suffix
}

/// The canonical 18-character form of a 15- or 18-character id, or `None` if `text` is not
/// shaped like an id. An 18-character id may come in any letter case: its suffix restores it.
pub fn normalize(text: &str) -> Option<String> {
    if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match text.len() {
        15 => Some(format!("{text}{}", checksum(text))),
        18 => restore_case(text),
        _ => None,
    }
}

fn restore_case(id18: &str) -> Option<String> {
    let (body, suffix) = id18.split_at(15);
    let mut restored = String::with_capacity(18);
    for (chunk, code) in body.as_bytes().chunks(5).zip(suffix.bytes()) {
        let bits = SUFFIX.iter().position(|s| *s == code.to_ascii_uppercase())?;
        for (i, c) in chunk.iter().enumerate() {
            let upper = bits & (1 << i) != 0;
            restored
                .push(if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() } as char);
        }
    }
    let check = checksum(&restored);
    restored.push_str(&check);
    Some(restored)
}

/// The key prefix (first three characters) of an id.
pub fn prefix(id: &str) -> &str {
    id.get(..3).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_matches_a_known_salesforce_id() {
        // A documented example: 001A0000006Vm9r → 001A0000006Vm9rIAC.
        assert_eq!(checksum("001A0000006Vm9r"), "IAC");
    }

    #[test]
    fn made_ids_are_eighteen_characters_and_sort_in_creation_order() {
        let a = make("003", 61);
        let b = make("003", 62);
        assert_eq!(a.len(), 18);
        assert!(a < b, "{a} < {b}");
        assert_eq!(prefix(&a), "003");
    }

    #[test]
    fn an_eighteen_character_id_in_the_wrong_case_is_restored() {
        let id = "001A0000006Vm9rIAC";
        assert_eq!(normalize(&id.to_lowercase()).as_deref(), Some(id));
        assert_eq!(normalize("001A0000006Vm9r").as_deref(), Some(id));
        assert_eq!(normalize("not-an-id"), None);
    }
}
