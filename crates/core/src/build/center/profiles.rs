//! Build profiles: checked when the user saves one, kept in the settings file.

use mossy_protocol::build::BuildProfile;

use super::{BuildCenter, CenterError};
use crate::settings::{Settings, SettingsError};

/// Longest profile name accepted; names show in a drop-down.
const PROFILE_NAME_MAX: usize = 100;

impl BuildCenter {
    /// Adds a profile, or replaces the one named `replacing`, and saves the settings file.
    pub fn save_profile(
        &self,
        profile: BuildProfile,
        replacing: Option<&str>,
    ) -> Result<(), CenterError> {
        let profile = validate_profile(profile)?;
        let mut profiles = self.shared.lock().profiles.clone();
        let clash = profiles
            .iter()
            .any(|p| p.name == profile.name && Some(p.name.as_str()) != replacing);
        if clash {
            return Err(CenterError::InvalidProfile(format!(
                "A profile named \"{}\" already exists.",
                profile.name
            )));
        }
        match replacing.and_then(|old| profiles.iter().position(|p| p.name == old)) {
            Some(at) => profiles[at] = profile,
            None => profiles.push(profile),
        }
        self.store_profiles(profiles)
    }

    /// Removes the profile named `name` and saves the settings file.
    pub fn delete_profile(&self, name: &str) -> Result<(), CenterError> {
        let mut profiles = self.shared.lock().profiles.clone();
        let before = profiles.len();
        profiles.retain(|p| p.name != name);
        if profiles.len() == before {
            return Err(CenterError::NoSuchProfile(name.to_owned()));
        }
        self.store_profiles(profiles)
    }

    fn store_profiles(&self, profiles: Vec<BuildProfile>) -> Result<(), CenterError> {
        let path = &self.shared.config.settings_file;
        Settings::update(path, |settings| settings.builds.profiles = profiles.clone()).map_err(
            |err| match err {
                SettingsError::Write { .. } => CenterError::Settings(err.to_string()),
                _ => CenterError::Settings(format!("{err}; fix or remove that file first")),
            },
        )?;
        self.shared.lock().profiles = profiles;
        self.shared.changed();
        Ok(())
    }
}

fn validate_profile(mut profile: BuildProfile) -> Result<BuildProfile, CenterError> {
    profile.name = profile.name.trim().to_owned();
    profile.program = profile.program.trim().to_owned();
    if profile.name.is_empty() {
        return Err(CenterError::InvalidProfile(
            "Give the profile a name.".into(),
        ));
    }
    if profile.name.chars().count() > PROFILE_NAME_MAX {
        return Err(CenterError::InvalidProfile(format!(
            "Profile names are at most {PROFILE_NAME_MAX} characters."
        )));
    }
    if profile.program.is_empty() {
        return Err(CenterError::InvalidProfile(
            "Say which program the profile runs.".into(),
        ));
    }
    if let Some(dir) = &profile.working_dir
        && dir.trim().is_empty()
    {
        profile.working_dir = None;
    }
    if let Some(key) = profile
        .env
        .keys()
        .find(|key| key.is_empty() || key.contains('='))
    {
        return Err(CenterError::InvalidProfile(format!(
            "\"{key}\" is not a valid environment variable name."
        )));
    }
    Ok(profile)
}
