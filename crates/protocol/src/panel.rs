//! Panels that open in windows of their own, and the requests that open them.
//!
//! Mossy asks for a panel in one of two ways: it starts `mossy-live --panel build`, or it
//! opens the deep link `mossy-live://panel/build`. Both reach [`PanelRequest::from_args`],
//! which the running app applies to every launch it is handed (its own and, through the
//! single-instance hand-over, every later one). The frontend maps the same [`Panel`] to a
//! route, so the names here are the names in window labels, routes and links alike.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The deep link scheme the app registers with the operating system.
pub const DEEP_LINK_SCHEME: &str = "mossy-live";

/// The host part of a panel link: `mossy-live://panel/<name>`.
const PANEL_LINK_HOST: &str = "panel";

/// Names of the backend commands about windows.
pub mod commands {
    /// Labels of the app's open windows, sorted; takes nothing. Shown on the Settings page
    /// so a user (and the end-to-end test) can see which panel windows are open.
    pub const OPEN_WINDOWS: &str = "open_windows";
}

/// A panel that can have a window of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Panel {
    /// Running tools and the activity feed.
    ToolMonitor,
    /// Builds, their logs and diagnostics.
    Build,
    /// The collaborative script editor.
    Editor,
    /// The asset gallery.
    Assets,
}

impl Panel {
    /// Every panel, in navigation order.
    pub const ALL: [Panel; 4] = [
        Panel::ToolMonitor,
        Panel::Build,
        Panel::Editor,
        Panel::Assets,
    ];

    /// The name used in links, routes and window labels, such as `tool-monitor`.
    pub fn slug(self) -> &'static str {
        match self {
            Panel::ToolMonitor => "tool-monitor",
            Panel::Build => "build",
            Panel::Editor => "editor",
            Panel::Assets => "assets",
        }
    }

    /// The panel with this name, ignoring ASCII case; `None` for any other text.
    pub fn from_slug(name: &str) -> Option<Panel> {
        Panel::ALL
            .into_iter()
            .find(|panel| panel.slug().eq_ignore_ascii_case(name))
    }

    /// The title of the panel's window.
    pub fn title(self) -> &'static str {
        match self {
            Panel::ToolMonitor => "Tool monitor",
            Panel::Build => "Build",
            Panel::Editor => "Editor",
            Panel::Assets => "Assets",
        }
    }

    /// The label of the panel's own window, such as `panel-build`.
    pub fn window_label(self) -> String {
        format!("panel-{}", self.slug())
    }

    /// The frontend route that shows the panel alone, such as `/panel/build`.
    pub fn route(self) -> String {
        format!("/panel/{}", self.slug())
    }
}

impl fmt::Display for Panel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// What a launch asks the running app to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelRequest {
    /// Nothing in particular: show the main window.
    Main,
    /// Open this panel's window, or focus it when it is open.
    Panel(Panel),
}

/// Why a launch's panel request was not understood. The app logs it and shows the main
/// window instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PanelRequestError {
    /// `--panel` or the link named a panel that does not exist.
    UnknownPanel(String),
    /// The argument is not a `mossy-live://panel/<name>` link.
    NotAPanelLink(String),
}

impl fmt::Display for PanelRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = Panel::ALL.map(Panel::slug).join(", ");
        match self {
            PanelRequestError::UnknownPanel(name) => {
                write!(
                    f,
                    "there is no panel named {name:?}; the panels are {names}"
                )
            }
            PanelRequestError::NotAPanelLink(link) => write!(
                f,
                "{link:?} is not a panel link; expected {DEEP_LINK_SCHEME}://{PANEL_LINK_HOST}/<name> \
                 with a name among {names}"
            ),
        }
    }
}

impl std::error::Error for PanelRequestError {}

impl PanelRequest {
    /// The request of one launch, from its `--panel` value and its deep link argument.
    /// The flag wins when both are given; neither means the main window.
    pub fn from_args(panel: Option<&str>, link: Option<&str>) -> Result<Self, PanelRequestError> {
        if let Some(name) = panel {
            let name = name.trim();
            return Panel::from_slug(name)
                .map(PanelRequest::Panel)
                .ok_or_else(|| PanelRequestError::UnknownPanel(name.to_owned()));
        }
        match link {
            Some(link) => parse_panel_link(link).map(PanelRequest::Panel),
            None => Ok(PanelRequest::Main),
        }
    }
}

/// Reads `mossy-live://panel/<name>`. Scheme, host and name are matched ignoring ASCII
/// case (browsers and shells change case on the way); one trailing slash, a query and a
/// fragment are allowed and ignored. Anything else is an error.
pub fn parse_panel_link(link: &str) -> Result<Panel, PanelRequestError> {
    let not_a_link = || PanelRequestError::NotAPanelLink(link.to_owned());
    let trimmed = link.trim();
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(not_a_link)?;
    if !scheme.eq_ignore_ascii_case(DEEP_LINK_SCHEME) {
        return Err(not_a_link());
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = &rest[..end];
    let path = path.strip_suffix('/').unwrap_or(path);
    let (host, name) = path.split_once('/').ok_or_else(not_a_link)?;
    if !host.eq_ignore_ascii_case(PANEL_LINK_HOST) || name.is_empty() || name.contains('/') {
        return Err(not_a_link());
    }
    Panel::from_slug(name).ok_or_else(|| PanelRequestError::UnknownPanel(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn every_panel_link_opens_its_panel() {
        for panel in Panel::ALL {
            let link = format!("mossy-live://panel/{}", panel.slug());
            assert_eq!(parse_panel_link(&link), Ok(panel), "{link}");
            round_trip(&panel);
        }
    }

    #[test]
    fn case_trailing_slash_query_and_fragment_are_tolerated() {
        for link in [
            "MOSSY-LIVE://Panel/Build",
            "mossy-live://panel/build/",
            "mossy-live://panel/build?x=y",
            "mossy-live://panel/build/?from=mossy&x=y",
            "mossy-live://panel/build#top",
            "  mossy-live://panel/build\n",
        ] {
            assert_eq!(parse_panel_link(link), Ok(Panel::Build), "{link:?}");
        }
    }

    #[test]
    fn junk_is_refused_with_the_reason() {
        for link in [
            "",
            "build",
            "mossy-live:panel/build",
            "mossy-live://panel",
            "mossy-live://panel/",
            "mossy-live://panels/build",
            "mossy-live://panel/build/extra",
            "mossy-live://panel//build",
            "https://panel/build",
            "mossy-live-x://panel/build",
            "mossy-live://?panel/build",
        ] {
            assert_eq!(
                parse_panel_link(link),
                Err(PanelRequestError::NotAPanelLink(link.to_owned())),
                "{link:?}"
            );
        }
        assert_eq!(
            parse_panel_link("mossy-live://panel/inventory"),
            Err(PanelRequestError::UnknownPanel("inventory".into()))
        );
        assert_eq!(
            parse_panel_link("mossy-live://panel/build%2F..").map_err(|err| err.to_string()),
            Err(
                "there is no panel named \"build%2F..\"; the panels are tool-monitor, build, \
                 editor, assets"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_panel_flag_wins_over_a_link_and_neither_means_main() {
        assert_eq!(
            PanelRequest::from_args(Some("Tool-Monitor"), Some("mossy-live://panel/assets")),
            Ok(PanelRequest::Panel(Panel::ToolMonitor))
        );
        assert_eq!(
            PanelRequest::from_args(None, Some("mossy-live://panel/assets")),
            Ok(PanelRequest::Panel(Panel::Assets))
        );
        assert_eq!(PanelRequest::from_args(None, None), Ok(PanelRequest::Main));
        assert_eq!(
            PanelRequest::from_args(Some("builds"), None),
            Err(PanelRequestError::UnknownPanel("builds".into()))
        );
    }

    #[test]
    fn labels_and_routes_follow_the_slug() {
        assert_eq!(Panel::ToolMonitor.window_label(), "panel-tool-monitor");
        assert_eq!(Panel::Assets.route(), "/panel/assets");
    }
}
