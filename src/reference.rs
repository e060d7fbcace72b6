//! Every check follows a section of one of two public troubleshooting pages. Spec files name
//! the page by the file it was read from and the section by its heading; this table turns that
//! into the address a reader can open, with the section's anchor where the site makes one from
//! the heading.

use crate::model::DocRef;

/// A source page: the file name the spec files use, its public address, and whether its
/// sections have anchors made from their headings (Hugo sites such as kubernetes.io do;
/// cloud.google.com sets its own ids, which the heading does not tell).
struct Page {
    seed: &'static str,
    title: &'static str,
    url: &'static str,
    heading_anchors: bool,
}

const PAGES: &[Page] = &[
    Page {
        seed: "000_88f879d7fcaa3a40.txt",
        title: "GKE: troubleshooting authentication",
        url: "https://cloud.google.com/kubernetes-engine/docs/troubleshooting/authentication?hl=ja",
        heading_anchors: false,
    },
    Page {
        seed: "001_a843213bd4746882.txt",
        title: "Kubernetes: troubleshooting kubeadm",
        url: "https://kubernetes.io/ja/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/",
        heading_anchors: true,
    },
];

/// Where a check's description comes from, as a reader can follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The page's name, in English.
    pub page: String,
    /// The section's heading, as on the page (Markdown code marks removed).
    pub section: String,
    /// The page's address, with `#anchor` when the section has one.
    pub url: Option<String>,
}

impl Reference {
    /// `URL (section "…")`, or the page and section when the page is not known.
    pub fn line(&self) -> String {
        match (&self.url, self.section.is_empty()) {
            (Some(u), false) => format!("{u} (section \"{}\")", self.section),
            (Some(u), true) => u.clone(),
            (None, false) => format!("{} — {}", self.page, self.section),
            (None, true) => self.page.clone(),
        }
    }
}

/// The reference of a spec's `docs`: its own `url` when it gives one, else the address of
/// its source page (and section) from the table above, else its text as it is.
pub fn of(doc: &DocRef) -> Reference {
    let section = doc
        .section
        .as_deref()
        .or(doc.title.as_deref())
        .unwrap_or("")
        .replace('`', "");
    let page = PAGES.iter().find(|p| doc.seed.as_deref() == Some(p.seed));
    let url = doc.url.clone().or_else(|| {
        page.map(|p| match (&doc.section, p.heading_anchors) {
            (Some(sec), true) => format!("{}#{}", p.url, anchor(sec)),
            _ => p.url.to_string(),
        })
    });
    Reference {
        page: page
            .map(|p| p.title.to_string())
            .or_else(|| doc.title.clone())
            .or_else(|| doc.text.clone())
            .or_else(|| doc.seed.clone())
            .unwrap_or_default(),
        section,
        url,
    }
}

/// The anchor Hugo (GitHub style) makes from a Markdown heading: code marks dropped, letters
/// and digits lowercased and kept (any script), `-` and `_` kept, spaces turned into `-`,
/// everything else removed.
pub fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c == ' ' || c == '-' {
                Some('-')
            } else if c == '_' {
                Some('_')
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(seed: &str, section: &str) -> DocRef {
        DocRef {
            seed: Some(seed.into()),
            section: Some(section.into()),
            ..DocRef::default()
        }
    }

    #[test]
    fn kubeadm_sections_get_hugo_anchors() {
        let r = of(&doc(
            "001_a843213bd4746882.txt",
            "`coredns`のPodが`CrashLoopBackOff`もしくは`Error`状態になる",
        ));
        assert_eq!(
            r.url.as_deref(),
            Some(
                "https://kubernetes.io/ja/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#corednsのpodがcrashloopbackoffもしくはerror状態になる"
            )
        );
        assert_eq!(
            anchor("RBACがないため、v1.18ノードをv1.17クラスタに結合できない"),
            "rbacがないためv118ノードをv117クラスタに結合できない"
        );
        assert_eq!(
            anchor("`kubeadm upgrade plan`が`context deadline exceeded`エラーメッセージを表示する"),
            "kubeadm-upgrade-planがcontext-deadline-exceededエラーメッセージを表示する"
        );
        assert_eq!(
            r.section,
            "corednsのPodがCrashLoopBackOffもしくはError状態になる"
        );
    }

    #[test]
    fn gke_sections_name_the_page_and_the_heading() {
        let r = of(&doc("000_88f879d7fcaa3a40.txt", "DNS 解決に関する問題"));
        assert_eq!(
            r.line(),
            "https://cloud.google.com/kubernetes-engine/docs/troubleshooting/authentication?hl=ja (section \"DNS 解決に関する問題\")"
        );
    }

    #[test]
    fn every_check_of_the_catalog_has_an_address() {
        let cat = crate::spec::Catalog::embedded().unwrap();
        for c in &cat.checks {
            let r = of(&c.spec.docs);
            let url = r.url.as_deref().unwrap_or_else(|| panic!("{}", c.spec.id));
            assert!(url.starts_with("https://"), "{}: {url}", c.spec.id);
        }
    }
}
