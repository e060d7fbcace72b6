//! `k8s/image-pull-failure`: containers waiting in `ErrImagePull`, `ImagePullBackOff` or
//! `InvalidImageName`, one finding per image and cause. The cause is read from the kubelet's
//! `Failed to pull image` event (else the waiting message): the image or tag does not exist,
//! the registry refuses the credentials, the registry cannot be reached, or it rate-limits.
//! `ImagePullBackOff` alone says nothing of the cause; the event says it.

use super::{Groups, Lists, finish, for_how_long, pod_vars};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Event, Pod};
use crate::facts::Unavailable;

const REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

/// Why a pull failed, from the runtime's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullCause {
    RateLimited,
    Unauthorized,
    /// Docker Hub's answer for both a missing repository and one that needs a login.
    NotFoundOrUnauthorized,
    NotFound,
    Unreachable,
    Certificate,
    InvalidName,
    NeverPull,
    Unknown,
}

impl PullCause {
    /// The cause's name in the spec's phrases: `cause-NAME` (its label in the summary) and
    /// `advice-NAME` (what to do about it).
    pub fn name(self) -> &'static str {
        match self {
            PullCause::RateLimited => "rate-limited",
            PullCause::Unauthorized => "unauthorized",
            PullCause::NotFoundOrUnauthorized => "not-found-or-unauthorized",
            PullCause::NotFound => "not-found",
            PullCause::Unreachable => "unreachable",
            PullCause::Certificate => "certificate",
            PullCause::InvalidName => "invalid-name",
            PullCause::NeverPull => "never-pull",
            PullCause::Unknown => "unknown",
        }
    }
}

/// The cause a runtime's pull error message gives, by the wordings of Docker, containerd and
/// CRI-O and of the registries (Docker Hub, ECR, GCR/Artifact Registry, ACR, Harbor, Quay).
pub fn classify(msg: &str) -> PullCause {
    let m = msg.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| m.contains(x));
    if has(&[
        "toomanyrequests",
        "429 too many requests",
        "pull rate limit",
        "rate limit exceeded",
    ]) {
        return PullCause::RateLimited;
    }
    if has(&[
        "invalid reference format",
        "invalidimagename",
        "couldn't parse image reference",
        "invalid image name",
    ]) {
        return PullCause::InvalidName;
    }
    if has(&[
        "repository does not exist or may require",
        "pull access denied",
    ]) {
        return PullCause::NotFoundOrUnauthorized;
    }
    if has(&[
        "unauthorized",
        "401 unauthorized",
        "authentication required",
        "no basic auth credentials",
        "403 forbidden",
        "denied: ",
        "access denied",
        "insufficient_scope",
        "permission \"artifactregistry",
    ]) {
        return PullCause::Unauthorized;
    }
    if has(&[
        "not found",
        "manifest unknown",
        "notfound",
        "name unknown",
        "does not exist",
        "no matching manifest",
    ]) {
        return PullCause::NotFound;
    }
    if has(&[
        "x509:",
        "certificate signed by unknown authority",
        "certificate is not valid",
        "tls: failed to verify",
    ]) {
        return PullCause::Certificate;
    }
    if has(&[
        "i/o timeout",
        "dial tcp",
        "no such host",
        "connection refused",
        "connection reset",
        "tls handshake timeout",
        "context deadline exceeded",
        "request canceled",
        "network is unreachable",
        "no route to host",
        "temporary failure in name resolution",
        "server misbehaving",
        "unexpected eof",
        ": eof",
    ]) {
        return PullCause::Unreachable;
    }
    if has(&[
        "erimageneverpull",
        "errimageneverpull",
        "imagepullpolicy is set to never",
    ]) {
        return PullCause::NeverPull;
    }
    PullCause::Unknown
}

/// The image a kubelet event names (`Failed to pull image "busybox:lates": ...`).
fn event_image(msg: &str) -> Option<&str> {
    let rest = msg.split("image \"").nth(1)?;
    rest.split('"').next()
}

/// Kubelet event messages that carry the runtime's reason for a failed pull (the `Error:
/// ErrImagePull` events beside them only repeat the state).
const PULL_MESSAGES: &[&str] = &[
    "Failed to pull image",
    "Failed to apply default image tag",
    "Failed to inspect image",
    "is not present with pull policy of Never",
];

/// The newest event about this pod's pull of `image` that says why it failed.
fn pull_event<'d>(evs: Vec<Event<'d>>, image: &str) -> Option<Event<'d>> {
    evs.into_iter()
        .rev()
        .filter(|e| PULL_MESSAGES.iter().any(|m| e.message.contains(m)))
        .find(|e| event_image(e.message).is_none_or(|i| i == image))
}

/// `k8s/image-pull-failure`.
pub fn image_pull_failure(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let lists = Lists::read(ctx)?;
    let by_pod = lists.pod_events();
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        let p = &p;
        if p.is_gone() {
            continue;
        }
        for (i, c) in p.containers.iter().enumerate() {
            let Some(reason) = c.state.waiting().filter(|r| REASONS.contains(r)) else {
                continue;
            };
            let ev = pull_event(by_pod.of(p.meta.namespace, p.meta.name), c.image);
            let message = match &c.state {
                cluster::State::Waiting { message, .. } => message.unwrap_or(""),
                _ => "",
            };
            let cause = match (reason, ev.as_ref().map(|e| classify(e.message))) {
                ("InvalidImageName", _) => PullCause::InvalidName,
                ("ErrImageNeverPull", _) => PullCause::NeverPull,
                (_, Some(c)) if c != PullCause::Unknown => c,
                _ => classify(message),
            };
            let key = format!("{}|{}|{:?}", p.meta.namespace, c.image, cause);
            groups.add(key, p, (i, ev, cause));
        }
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (first, (ci, ev, cause)) = (&g[0].0, &g[0].1);
        let c = &first.containers[*ci];
        let said = ev
            .as_ref()
            .map(|e| e.message)
            .or(match &c.state {
                cluster::State::Waiting { message, .. } => *message,
                _ => None,
            })
            .unwrap_or("");
        let since = for_how_long(
            lists.now,
            g.iter()
                .map(|(p, (_, e, _))| e.as_ref().and_then(|e| e.first).or(p.meta.created)),
        )
        .map(|s| format!("Failing {s}. "))
        .unwrap_or_default();
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var("container", c.name)
            .var("image", c.image)
            .var("state", c.state.label())
            .var("cause", ctx.phrase(&format!("cause-{}", cause.name()), &[]))
            .var("message", said.trim())
            .var("since", since)
            .var(
                "advice",
                ctx.phrase(&format!("advice-{}", cause.name()), &[]),
            );
        for (p, (i, _, _)) in &g {
            d.evidence
                .push(p.container_line(&p.containers[*i], "\"reason\""));
        }
        let extra: Vec<_> = g
            .iter()
            .take(2)
            .filter_map(|(_, (_, e, _))| e.as_ref().map(|e| e.evidence()))
            .collect();
        drafts.push(finish(d, g.len(), extra));
    }
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_from_real_messages() {
        let cases = [
            (
                r#"Failed to pull image "ubuntu:latest": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/ubuntu:latest": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/ubuntu/manifests/sha256:b5a6: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"#,
                PullCause::RateLimited,
            ),
            (
                r#"Failed to pull image "nginx:1.999": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": failed to resolve reference "docker.io/library/nginx:1.999": docker.io/library/nginx:1.999: not found"#,
                PullCause::NotFound,
            ),
            (
                r#"Failed to pull image "acme/private:1": rpc error: code = Unknown desc = Error response from daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"#,
                PullCause::NotFoundOrUnauthorized,
            ),
            (
                r#"Failed to pull image "registry.example.com/app:2": rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/app:2": failed to resolve reference "registry.example.com/app:2": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"#,
                PullCause::Unauthorized,
            ),
            (
                r#"Failed to pull image "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1": rpc error: code = Unknown desc = Error response from daemon: Get https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1: no basic auth credentials"#,
                PullCause::Unauthorized,
            ),
            (
                r#"Failed to pull image "quay.io/x/y:1": rpc error: code = Unknown desc = Error response from daemon: Get "https://quay.io/v2/": dial tcp: lookup quay.io on 10.0.0.2:53: no such host"#,
                PullCause::Unreachable,
            ),
            (
                r#"Failed to pull image "gcr.io/p/app:1": rpc error: code = DeadlineExceeded desc = context deadline exceeded"#,
                PullCause::Unreachable,
            ),
            (
                r#"Failed to pull image "harbor.local/app:1": rpc error: code = Unknown desc = failed to pull and unpack image "harbor.local/app:1": failed to resolve reference "harbor.local/app:1": failed to do request: Head "https://harbor.local/v2/app/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority"#,
                PullCause::Certificate,
            ),
            (
                r#"Failed to apply default image tag "Nginx:latest": couldn't parse image reference "Nginx:latest": invalid reference format: repository name must be lowercase"#,
                PullCause::InvalidName,
            ),
            (
                "Back-off pulling image \"ubuntu:latest\"",
                PullCause::Unknown,
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(classify(msg), want, "{msg}");
        }
        assert_eq!(
            event_image("Back-off pulling image \"ubuntu:latest\""),
            Some("ubuntu:latest")
        );
    }
}
