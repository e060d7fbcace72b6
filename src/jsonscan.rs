//! A lightweight scanner for JSON text that serde_json has already accepted: where the items
//! of a list start and end, and where a value ends, by strings and nesting alone. Both the
//! parse-once facts (item line spans for evidence) and the importers of other tools' bundles
//! (copying items as they were written) need the byte positions serde_json does not give.

/// Byte spans of the elements of a JSON document's list: the top-level array, or the array under
/// the top-level `items` key. A lightweight scanner (strings and nesting only), run on text that
/// serde_json has already accepted.
pub fn list_item_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut i = skip_ws(b, 0);
    if i >= b.len() {
        return Vec::new();
    }
    if b[i] == b'{' {
        // Find the "items" key at depth 1.
        i += 1;
        loop {
            i = skip_ws(b, i);
            if i >= b.len() || b[i] != b'"' {
                return Vec::new();
            }
            let key_end = skip_string(b, i);
            let key = &b[i + 1..key_end.saturating_sub(1).max(i + 1)];
            i = skip_ws(b, key_end);
            if i >= b.len() || b[i] != b':' {
                return Vec::new();
            }
            i = skip_ws(b, i + 1);
            if key == b"items" || key == b"Items" {
                break;
            }
            i = skip_value(b, i);
            i = skip_ws(b, i);
            if i < b.len() && b[i] == b',' {
                i += 1;
            } else {
                return Vec::new();
            }
        }
    }
    if i >= b.len() || b[i] != b'[' {
        return Vec::new();
    }
    i += 1;
    let mut spans = Vec::new();
    loop {
        i = skip_ws(b, i);
        if i >= b.len() || b[i] == b']' {
            return spans;
        }
        let start = i;
        i = skip_value(b, i);
        spans.push((start, i));
        i = skip_ws(b, i);
        if i < b.len() && b[i] == b',' {
            i += 1;
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// `i` at an opening quote; returns the index after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Returns the index just after the value starting at `i`.
pub fn skip_value(b: &[u8], mut i: usize) -> usize {
    if i >= b.len() {
        return i;
    }
    match b[i] {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
            }
            i
        }
    }
}
