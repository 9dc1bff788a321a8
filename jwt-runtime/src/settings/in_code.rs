//! The settings given in code ([`CodeSettings`]): the profile, and every setter's value in call
//! order, applied over the profile's defaults whenever the settings are resolved.
//!
//! Keeping the setters' values rather than a finished [`Settings`] is what lets the profile be
//! chosen at any point of the builder's chain (`.token_location(..).extended()` keeps the
//! locations) and lets a profile chosen in Rocket's configuration keep everything the code set,
//! even a value that happens to equal the code profile's default.

use std::fmt;
use std::sync::Arc;

use super::{Profile, Settings};

/// One setter's change, applied again each time the settings are resolved.
type Edit = Arc<dyn Fn(&mut Settings) + Send + Sync>;

/// The profile chosen in code and the setters' values, in call order.
#[derive(Clone, Default)]
pub(crate) struct CodeSettings {
    profile: Profile,
    edits: Vec<Edit>,
}

impl CodeSettings {
    /// Chooses the profile whose defaults lie under every setter's value.
    pub(crate) fn choose_profile(&mut self, profile: Profile) {
        self.profile = profile;
    }

    /// Records that the field `field` picks out is set to `value`.
    pub(crate) fn set<T, F>(&mut self, field: F, value: T)
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(&mut Settings) -> &mut T + Send + Sync + 'static,
    {
        self.edits
            .push(Arc::new(move |settings| *field(settings) = value.clone()));
    }

    /// Replaces everything set so far, the profile included, with `settings`.
    pub(crate) fn replace(&mut self, settings: Settings) {
        self.profile = settings.profile;
        self.edits.clear();
        self.set(|s| s, settings);
    }

    /// The settings under `profile`: its defaults, then each setter's value in call order.
    pub(crate) fn under(&self, profile: Profile) -> Settings {
        let mut settings = Settings::for_profile(profile);
        for edit in &self.edits {
            edit(&mut settings);
        }
        settings.profile = profile;
        settings
    }

    /// The settings under the profile chosen in code.
    pub(crate) fn resolve(&self) -> Settings {
        self.under(self.profile)
    }
}

impl fmt::Debug for CodeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeSettings")
            .field("profile", &self.profile)
            .field("edits", &self.edits.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_profile_lies_under_every_value_whenever_it_is_chosen() {
        let mut early = CodeSettings::default();
        early.choose_profile(Profile::Extended);
        early.set(|s| &mut s.leeway, Duration::from_secs(10));
        let mut late = CodeSettings::default();
        late.set(|s| &mut s.leeway, Duration::from_secs(10));
        late.choose_profile(Profile::Extended);
        // 10 s is Flask-JWT's default and not the extended profile's (0 s): it is kept anyway.
        assert_eq!(early.resolve(), late.resolve());
        assert_eq!(late.resolve().leeway, Duration::from_secs(10));
        assert_eq!(late.resolve().auth_header_prefix, "Bearer");
    }

    #[test]
    fn replace_forgets_what_came_before_it() {
        let mut code = CodeSettings::default();
        code.set(|s| &mut s.default_realm, "Before".to_owned());
        code.replace(Settings::for_profile(Profile::Extended));
        assert_eq!(code.resolve(), Settings::for_profile(Profile::Extended));
    }
}
