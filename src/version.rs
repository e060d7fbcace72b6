//! Version numbers as the catalog compares them: numerically, field by field.
//!
//! `1.21.0-gke.1000` → [1, 21, 0, 1000]; `v1.17.4` → [1, 17, 4];
//! `1.13.1-84.git07f3374.el7.centos` → [1, 13, 1, 84] (the distribution suffix is not a number).

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub parts: Vec<u64>,
    pub text: String,
}

impl Version {
    /// Parses a version, ignoring a leading `v`, a package epoch (`1:`) and a package name
    /// prefix (`docker-`). Returns `None` when no leading number is present.
    pub fn parse(s: &str) -> Option<Version> {
        let t = s.trim();
        let start = t.find(|c: char| c.is_ascii_digit())?;
        let mut rest = &t[start..];
        // A Debian epoch such as `5:20.10.7~3-0~ubuntu` is not part of the version proper.
        if let Some(pos) = rest.find(':')
            && rest[..pos].chars().all(|c| c.is_ascii_digit())
        {
            rest = &rest[pos + 1..];
        }
        let mut parts = Vec::new();
        for piece in rest.split(['.', '-', '+', '~', '_']) {
            if piece.is_empty() {
                continue;
            }
            if piece.chars().all(|c| c.is_ascii_digit()) {
                match piece.parse::<u64>() {
                    Ok(n) => parts.push(n),
                    Err(_) => break,
                }
            } else if piece == "gke" {
                continue;
            } else {
                break;
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(Version {
            parts,
            text: t.to_string(),
        })
    }

    /// Compares only the first `n` fields (`1.17.4` vs `1.17` with n = 2 is equal).
    pub fn cmp_prefix(&self, other: &Version, n: usize) -> Ordering {
        let a = &self.parts[..self.parts.len().min(n)];
        let b = &other.parts[..other.parts.len().min(n)];
        cmp_parts(a, b)
    }

    pub fn major_minor(&self) -> (u64, u64) {
        (
            self.parts.first().copied().unwrap_or(0),
            self.parts.get(1).copied().unwrap_or(0),
        )
    }
}

fn cmp_parts(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_parts(&self.parts, &other.parts)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn gke_build_numbers_compare_numerically() {
        assert!(v("1.21.0-gke.999") < v("1.21.0-gke.1000"));
        assert!(v("1.21.0-gke.1000") == v("1.21.0-gke.1000"));
        assert!(v("1.21.0-gke.1001") > v("1.21.0-gke.1000"));
        assert!(v("1.20.15-gke.9999") < v("1.21.0-gke.1000"));
        assert!(v("1.9.0-gke.0") < v("1.10.0-gke.0"));
    }

    #[test]
    fn package_versions_keep_their_release() {
        assert_eq!(v("1.13.1-84.git07f3374.el7.centos").parts, [1, 13, 1, 84]);
        assert_eq!(
            v("docker-1.13.1-75.git8633870.el7.centos.x86_64").parts,
            [1, 13, 1, 75]
        );
        assert_eq!(v("5:20.10.7~3-0~ubuntu-focal").parts, [20, 10, 7, 3, 0]);
        assert_eq!(v("v1.17.4").parts, [1, 17, 4]);
    }

    #[test]
    fn prefix_comparison() {
        assert_eq!(v("v1.17.4").cmp_prefix(&v("1.17"), 2), Ordering::Equal);
        assert_eq!(v("v1.18.0").major_minor(), (1, 18));
        assert!(Version::parse("latest").is_none());
    }
}
