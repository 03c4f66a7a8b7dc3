use super::{check_color, check_name};

#[test]
fn names_are_trimmed_bounded_and_folded() {
    assert_eq!(
        check_name("  VIP Ünïcode ").unwrap(),
        ("VIP Ünïcode".to_owned(), "vip ünïcode".to_owned())
    );
    assert!(check_name("   ").is_err());
    assert!(check_name(&"x".repeat(41)).is_err());
    assert!(check_name(&"é".repeat(40)).is_ok());
    assert!(check_name("bad\u{0}name").is_err());
    // Where SQLite's lower() would leave it: outside ASCII.
    assert_eq!(check_name("ΣΟΦΙΑ").unwrap().1, "σοφια");
}

#[test]
fn colours_are_hash_and_six_hex_digits() {
    assert_eq!(check_color("#1F7A8C").unwrap(), "#1f7a8c");
    for bad in [
        "1f7a8c",
        "#1f7a8",
        "#1f7a8cc",
        "#ggg000",
        "",
        "red",
        "#１２３４５６",
    ] {
        assert!(check_color(bad).is_err(), "{bad}");
    }
}
