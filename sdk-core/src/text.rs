//! Splitting at an ASCII separator without `core`'s string searcher.
//!
//! `str::split(',')` and `str::split_once(':')` go through `CharSearcher`, which decodes UTF-8
//! and scans with `memchr`: close to a kilobyte of WebAssembly for the browser build. A plain
//! byte scan does the same job for an ASCII separator, whose byte never occurs inside the
//! encoding of another character, so every cut falls on a character boundary.

/// `text.split_once(separator)` for an ASCII `separator`.
pub(crate) fn split_once_byte(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|byte| byte == separator)?;
    // Checked splits cannot fail at an ASCII byte; they avoid the boundary panic of slicing.
    let (head, tail) = text.split_at_checked(at)?;
    Some((head, tail.get(1..)?))
}

/// `text.split(separator)` for an ASCII `separator`: every piece, empty ones included.
pub(crate) fn split_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        match split_once_byte(current, separator) {
            Some((piece, tail)) => {
                rest = Some(tail);
                Some(piece)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_str_split_does() {
        let cases = ["", ",", "a", "a,b", ",a,,b,", "é,ü:ß,🙂", "no separator here"];
        for text in cases {
            let ours: Vec<&str> = split_byte(text, b',').collect();
            let std: Vec<&str> = text.split(',').collect();
            assert_eq!(ours, std, "{text:?}");
            assert_eq!(split_once_byte(text, b':'), text.split_once(':'), "{text:?}");
        }
    }
}
