//! The collector script, carried inside the binary so that one file taken into an air-gapped
//! site brings both halves: `kubetriage collector` prints it, the customer runs it, and the
//! bundle it writes comes back to `kubetriage`.

/// `collectors/collect-bundle.sh`, byte for byte.
pub const SCRIPT: &str = include_str!("../collectors/collect-bundle.sh");
