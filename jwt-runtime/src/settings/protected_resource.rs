//! [`ProtectedResource`]: the `protected_resource` setting, RFC 9728's protected-resource
//! metadata (what the document says, where it is served, its absolute URL). Depends on nothing
//! else of the crate; the route that serves it is `resource_metadata`'s.

use serde::{Deserialize, Serialize};

/// The well-known path of RFC 9728 §3.
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The `protected_resource` setting: what the metadata document says (RFC 9728 §2).
///
/// ```toml
/// [default.jwt.protected_resource]
/// resource = "https://api.example.com"
/// authorization_servers = ["https://tenant.auth0.com/"]
/// scopes_supported = ["read:messages"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedResource {
    /// `resource`: this API's identifier, an `https` (or, for development, `http`) URL without a
    /// query or fragment. Its path, if any, follows the well-known path in the document's URL.
    pub resource: String,
    /// `authorization_servers`: the issuers of tokens for this API; default none (omitted).
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`: the scopes this API's routes use; default none (omitted).
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// `bearer_methods_supported`: how a token may be sent; default `["header"]`.
    #[serde(default = "header_only")]
    pub bearer_methods_supported: Vec<String>,
}

fn header_only() -> Vec<String> {
    vec!["header".into()]
}

impl ProtectedResource {
    /// Metadata for `resource`, tokens sent in the `Authorization` header.
    pub fn new(resource: impl Into<String>) -> Self {
        ProtectedResource {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: header_only(),
        }
    }

    /// The resource identifier's scheme and authority, and its path without a trailing slash;
    /// `None` for an identifier that is not an `http(s)` URL without query and fragment.
    fn split(&self) -> Option<(&str, &str)> {
        let resource = self.resource.as_str();
        let rest = resource
            .strip_prefix("https://")
            .or_else(|| resource.strip_prefix("http://"))?;
        if rest.contains(['?', '#']) || rest.is_empty() {
            return None;
        }
        let path_start = rest.find('/').unwrap_or(rest.len());
        if path_start == 0 {
            return None;
        }
        let origin_len = resource.len() - rest.len() + path_start;
        let path = resource[origin_len..].trim_end_matches('/');
        Some((&resource[..origin_len], path))
    }

    /// The local path of the metadata document: the well-known path, then the resource's path.
    pub fn document_path(&self) -> Option<String> {
        self.split()
            .map(|(_, path)| format!("{WELL_KNOWN_PATH}{path}"))
    }

    /// The document's absolute URL, for the `resource_metadata` challenge parameter.
    pub fn document_url(&self) -> Option<String> {
        self.split()
            .map(|(origin, path)| format!("{origin}{WELL_KNOWN_PATH}{path}"))
    }

    /// Why the setting cannot be served, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        if self.split().is_none() {
            return Some(format!(
                "resource {:?} must be an https URL without query or fragment, e.g. \
                 \"https://api.example.com\"",
                self.resource
            ));
        }
        if self.bearer_methods_supported.is_empty() {
            return Some("bearer_methods_supported must name at least one method".into());
        }
        None
    }

    /// The JSON document: empty lists are left out.
    pub(crate) fn document(&self) -> serde_json::Value {
        let mut document = serde_json::Map::new();
        document.insert("resource".into(), self.resource.clone().into());
        for (name, values) in [
            ("authorization_servers", &self.authorization_servers),
            ("scopes_supported", &self.scopes_supported),
            ("bearer_methods_supported", &self.bearer_methods_supported),
        ] {
            if !values.is_empty() {
                document.insert(name.into(), values.clone().into());
            }
        }
        serde_json::Value::Object(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_url_inserts_the_well_known_path_before_the_resource_path() {
        let root = ProtectedResource::new("https://api.example.com");
        assert_eq!(
            root.document_url().as_deref(),
            Some("https://api.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            root.document_path().as_deref(),
            Some("/.well-known/oauth-protected-resource")
        );
        let slash = ProtectedResource::new("https://api.example.com/");
        assert_eq!(slash.document_url(), root.document_url());
        let pathed = ProtectedResource::new("http://127.0.0.1:8000/v1/");
        assert_eq!(
            pathed.document_url().as_deref(),
            Some("http://127.0.0.1:8000/.well-known/oauth-protected-resource/v1")
        );
        for bad in [
            "api.example.com",
            "https://",
            "https:///v1",
            "https://api.example.com?x=1",
            "https://api.example.com#top",
            "ftp://api.example.com",
        ] {
            let metadata = ProtectedResource::new(bad);
            assert!(metadata.problem().is_some(), "{bad}");
            assert_eq!(metadata.document_url(), None, "{bad}");
        }
        assert_eq!(root.problem(), None);
    }

    #[test]
    fn empty_lists_are_left_out_of_the_document() {
        let mut metadata = ProtectedResource::new("https://api.example.com");
        assert_eq!(
            metadata.document(),
            serde_json::json!({
                "resource": "https://api.example.com",
                "bearer_methods_supported": ["header"],
            })
        );
        metadata.authorization_servers = vec!["https://tenant.auth0.com/".into()];
        metadata.scopes_supported = vec!["read:messages".into()];
        assert_eq!(
            metadata.document(),
            serde_json::json!({
                "resource": "https://api.example.com",
                "authorization_servers": ["https://tenant.auth0.com/"],
                "scopes_supported": ["read:messages"],
                "bearer_methods_supported": ["header"],
            })
        );
    }
}
