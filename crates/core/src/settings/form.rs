//! The Settings page's form: read from [`Settings`], checked field by field, and applied
//! back onto the settings without touching what other pages own (build profiles).
//!
//! Every check answers with a sentence for the user under the field it is about; a form
//! with any error is not applied at all.

use mossy_protocol::settings::{ExtraToolForm, FieldError, SettingsForm, fields};

use super::{EMBED_OFF, ExtraTool, Settings, parse_embed_address};

/// Longest display name, in characters: other editors see it on a cursor label and in the
/// presence list, where a longer name is cut anyway.
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;

/// Longest hub token, in bytes. Tokens are generated secrets far shorter than this; the
/// limit only catches a pasted file or log by mistake.
pub const MAX_TOKEN_BYTES: usize = 1024;

/// Longest extra tool id, name or executable name, in characters (Windows file names stop
/// at 255 anyway).
pub const MAX_TOOL_TEXT_CHARS: usize = 255;

/// The form showing `settings`.
pub fn form_from_settings(settings: &Settings) -> SettingsForm {
    SettingsForm {
        bridge_url: settings.bridge.url.clone(),
        bridge_enabled: settings.bridge.enabled,
        extra_tools: settings
            .tools
            .extra
            .iter()
            .map(|tool| ExtraToolForm {
                id: tool.id.clone(),
                name: tool.name.clone().unwrap_or_default(),
                executables: tool.executables.clone(),
            })
            .collect(),
        hub_url: settings.editor.hub_url.clone(),
        hub_token: settings.editor.token.clone(),
        display_name: settings.editor.display_name.clone(),
        notify_builds: settings.notifications.builds,
        notify_tool_exits: settings.notifications.tool_exits,
        embed_address: settings.embedded_panels.address.clone(),
    }
}

/// Checks `form` and returns `settings` with it applied (text trimmed, empty executable
/// names dropped), or one error per refused field.
pub fn apply_form(settings: &Settings, form: &SettingsForm) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut refuse = |field: String, message: String| errors.push(FieldError { field, message });

    let bridge_url = form.bridge_url.trim();
    if let Err(message) = check_ws_url(bridge_url, "bridge address") {
        refuse(fields::BRIDGE_URL.into(), message);
    }
    let hub_url = form.hub_url.trim();
    if !hub_url.is_empty()
        && let Err(message) = check_ws_url(hub_url, "hub address")
    {
        refuse(fields::HUB_URL.into(), message);
    }
    let token = form.hub_token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        refuse(
            fields::HUB_TOKEN.into(),
            format!(
                "The token is longer than {MAX_TOKEN_BYTES} characters; paste the token alone."
            ),
        );
    } else if token.chars().any(char::is_whitespace) {
        refuse(
            fields::HUB_TOKEN.into(),
            "The token cannot contain spaces or line breaks.".into(),
        );
    }
    let display_name = form.display_name.trim();
    if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        refuse(
            fields::DISPLAY_NAME.into(),
            format!("Use at most {MAX_DISPLAY_NAME_CHARS} characters."),
        );
    } else if display_name.chars().any(char::is_control) {
        refuse(
            fields::DISPLAY_NAME.into(),
            "The name cannot contain line breaks or tabs.".into(),
        );
    }
    let embed_address = match parse_embed_address(&form.embed_address) {
        Ok(Some(_)) => form.embed_address.trim().to_owned(),
        Ok(None) => EMBED_OFF.to_owned(),
        Err(message) => {
            refuse(fields::EMBED_ADDRESS.into(), message);
            String::new()
        }
    };

    let mut extra = Vec::with_capacity(form.extra_tools.len());
    for (index, tool) in form.extra_tools.iter().enumerate() {
        let field = |name| fields::extra_tool(index, name);
        let id = tool.id.trim();
        if let Err(message) = check_tool_id(id) {
            refuse(field(fields::TOOL_ID), message);
        } else if form.extra_tools[..index]
            .iter()
            .any(|earlier| earlier.id.trim().eq_ignore_ascii_case(id))
        {
            refuse(
                field(fields::TOOL_ID),
                "Another extra tool above has this id; put its names there.".into(),
            );
        }
        let name = tool.name.trim();
        if name.chars().count() > MAX_TOOL_TEXT_CHARS {
            refuse(
                field(fields::TOOL_NAME),
                format!("Use at most {MAX_TOOL_TEXT_CHARS} characters."),
            );
        }
        let executables: Vec<String> = tool
            .executables
            .iter()
            .map(|exe| exe.trim())
            .filter(|exe| !exe.is_empty())
            .map(str::to_owned)
            .collect();
        if let Err(message) = check_executables(&executables) {
            refuse(field(fields::TOOL_EXECUTABLES), message);
        }
        extra.push(ExtraTool {
            id: id.to_owned(),
            name: (!name.is_empty()).then(|| name.to_owned()),
            executables,
        });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let mut next = settings.clone();
    next.bridge.url = bridge_url.to_owned();
    next.bridge.enabled = form.bridge_enabled;
    next.tools.extra = extra;
    next.editor.hub_url = hub_url.to_owned();
    next.editor.token = token.to_owned();
    next.editor.display_name = display_name.to_owned();
    next.notifications.builds = form.notify_builds;
    next.notifications.tool_exits = form.notify_tool_exits;
    next.embedded_panels.address = embed_address;
    Ok(next)
}

/// True when going from `before` to `after` changes something the app reads only at start:
/// the bridge connection, the tool table, the editor's hub (the hub is started, and the
/// page's content policy allows its address, before the first window opens) and the
/// embedded-panel server.
pub fn needs_restart(before: &Settings, after: &Settings) -> bool {
    before.bridge != after.bridge
        || before.tools != after.tools
        || before.editor != after.editor
        || before.embedded_panels != after.embedded_panels
}

/// Checks a WebSocket address: `ws://` or `wss://`, a host, and a port from 1 to 65535 when
/// one is given. `what` names the address in the message, such as "bridge address".
///
/// The WebSocket client would take `ws://host:70000/` and quietly connect to port 80, so an
/// out-of-range port must be refused here, before it is saved.
pub fn check_ws_url(url: &str, what: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err(format!(
            "Enter the {what}, such as ws://127.0.0.1:54321/bridge."
        ));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(format!("The {what} cannot contain spaces."));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("The {what} must start with ws:// or wss://."));
    };
    if !scheme.eq_ignore_ascii_case("ws") && !scheme.eq_ignore_ascii_case("wss") {
        return Err(format!("The {what} must start with ws:// or wss://."));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(format!(
            "The {what} cannot carry a user name or password; put a token in its own field."
        ));
    }
    let (host, port) = split_host_port(authority);
    if host.is_empty() || host == "[]" {
        return Err(format!("The {what} needs a host, such as 127.0.0.1."));
    }
    if let Some(port) = port {
        match port.parse::<u32>() {
            Ok(1..=65535) => {}
            _ => {
                return Err(format!(
                    "The port in the {what} must be a number from 1 to 65535, not {port:?}."
                ));
            }
        }
    }
    Ok(())
}

/// `host:port` into its parts; an IPv6 host stays in its brackets. An empty port after `:`
/// counts as a port (and is refused), so `ws://host:/` is not read as "no port".
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let (host, rest) = authority.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => ("", None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

fn check_tool_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("Give the tool an id, such as caprica-gui.".into());
    }
    if id.chars().count() > MAX_TOOL_TEXT_CHARS {
        return Err(format!("Use at most {MAX_TOOL_TEXT_CHARS} characters."));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("Use letters, digits, - and _ only in the id.".into());
    }
    Ok(())
}

fn check_executables(executables: &[String]) -> Result<(), String> {
    if executables.is_empty() {
        return Err("Enter at least one executable name, such as CapricaGui.exe.".into());
    }
    for exe in executables {
        if exe.contains(['/', '\\']) {
            return Err(format!(
                "{exe:?} is a path; enter the file name alone, such as CapricaGui.exe."
            ));
        }
        if exe.chars().count() > MAX_TOOL_TEXT_CHARS {
            return Err(format!(
                "Use at most {MAX_TOOL_TEXT_CHARS} characters per name."
            ));
        }
        if exe.chars().any(char::is_control) || exe == "." || exe == ".." {
            return Err(format!("{exe:?} is not a file name."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DEFAULT_BRIDGE_URL;

    fn valid_form() -> SettingsForm {
        form_from_settings(&Settings::default())
    }

    fn errors_of(form: &SettingsForm) -> Vec<(String, String)> {
        apply_form(&Settings::default(), form)
            .expect_err("refused")
            .into_iter()
            .map(|error| (error.field, error.message))
            .collect()
    }

    #[test]
    fn defaults_pass_and_apply_unchanged() {
        assert_eq!(
            apply_form(&Settings::default(), &valid_form()),
            Ok(Settings::default())
        );
        assert_eq!(valid_form().bridge_url, DEFAULT_BRIDGE_URL);
    }

    #[test]
    fn bridge_url_errors_name_the_fault() {
        let cases = [
            (
                "",
                "Enter the bridge address, such as ws://127.0.0.1:54321/bridge.",
            ),
            (
                "http://127.0.0.1:54321/bridge",
                "The bridge address must start with ws:// or wss://.",
            ),
            (
                "127.0.0.1:54321",
                "The bridge address must start with ws:// or wss://.",
            ),
            (
                "ws:///bridge",
                "The bridge address needs a host, such as 127.0.0.1.",
            ),
            (
                "ws://:5/bridge",
                "The bridge address needs a host, such as 127.0.0.1.",
            ),
            (
                "ws://127.0.0.1:70000/bridge",
                "The port in the bridge address must be a number from 1 to 65535, not \"70000\".",
            ),
            (
                "ws://127.0.0.1:0/bridge",
                "The port in the bridge address must be a number from 1 to 65535, not \"0\".",
            ),
            (
                "ws://127.0.0.1:/bridge",
                "The port in the bridge address must be a number from 1 to 65535, not \"\".",
            ),
            (
                "ws://127.0.0.1:port/bridge",
                "The port in the bridge address must be a number from 1 to 65535, not \"port\".",
            ),
            (
                "ws://127.0.0.1 :5/bridge",
                "The bridge address cannot contain spaces.",
            ),
            (
                "ws://me:pw@127.0.0.1:5/",
                "The bridge address cannot carry a user name or password; put a token in its own field.",
            ),
        ];
        for (url, message) in cases {
            let form = SettingsForm {
                bridge_url: url.into(),
                ..valid_form()
            };
            assert_eq!(
                errors_of(&form),
                [(fields::BRIDGE_URL.to_owned(), message.to_owned())],
                "{url:?}"
            );
        }
    }

    #[test]
    fn good_addresses_pass() {
        for url in [
            "ws://127.0.0.1:54321/bridge",
            "WSS://mossy.example:443/bridge?x=1",
            "ws://localhost",
            "ws://[::1]:65535/bridge",
            "  ws://127.0.0.1:1  ",
        ] {
            let form = SettingsForm {
                bridge_url: url.into(),
                hub_url: url.into(),
                ..valid_form()
            };
            let applied = apply_form(&Settings::default(), &form).expect("valid");
            assert_eq!(applied.bridge.url, url.trim());
            assert_eq!(applied.editor.hub_url, url.trim());
        }
    }

    #[test]
    fn hub_token_and_display_name_errors() {
        let form = SettingsForm {
            hub_url: "http://hub".into(),
            hub_token: "two words".into(),
            display_name: "x".repeat(MAX_DISPLAY_NAME_CHARS + 1),
            ..valid_form()
        };
        assert_eq!(
            errors_of(&form),
            [
                (
                    fields::HUB_URL.to_owned(),
                    "The hub address must start with ws:// or wss://.".to_owned()
                ),
                (
                    fields::HUB_TOKEN.to_owned(),
                    "The token cannot contain spaces or line breaks.".to_owned()
                ),
                (
                    fields::DISPLAY_NAME.to_owned(),
                    "Use at most 40 characters.".to_owned()
                ),
            ]
        );
        let form = SettingsForm {
            hub_token: "t".repeat(MAX_TOKEN_BYTES + 1),
            display_name: "tab\there".into(),
            ..valid_form()
        };
        assert_eq!(
            errors_of(&form),
            [
                (
                    fields::HUB_TOKEN.to_owned(),
                    "The token is longer than 1024 characters; paste the token alone.".to_owned()
                ),
                (
                    fields::DISPLAY_NAME.to_owned(),
                    "The name cannot contain line breaks or tabs.".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn embed_address_is_loopback_or_off() {
        for (text, saved) in [
            (" 127.0.0.1:5000 ", "127.0.0.1:5000"),
            ("[::1]:47821", "[::1]:47821"),
            ("OFF", "off"),
        ] {
            let form = SettingsForm {
                embed_address: text.into(),
                ..valid_form()
            };
            let applied = apply_form(&Settings::default(), &form).expect("accepted");
            assert_eq!(applied.embedded_panels.address, saved);
            assert!(needs_restart(&Settings::default(), &applied));
        }
        for (text, message) in [
            (
                "0.0.0.0:47821",
                "use 127.0.0.1 (or [::1]) with a port, not 0.0.0.0.",
            ),
            (
                "192.168.1.20:47821",
                "use 127.0.0.1 (or [::1]) with a port, not 192.168.1.20.",
            ),
            (
                "127.0.0.2:47821",
                "use 127.0.0.1 (or [::1]) with a port, not 127.0.0.2.",
            ),
            (
                "127.0.0.1",
                "Enter an address and port such as 127.0.0.1:47821, or off.",
            ),
            (
                "localhost:47821",
                "Enter an address and port such as 127.0.0.1:47821, or off.",
            ),
        ] {
            let form = SettingsForm {
                embed_address: text.into(),
                ..valid_form()
            };
            let errors = errors_of(&form);
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert_eq!(errors[0].0, fields::EMBED_ADDRESS);
            assert!(errors[0].1.ends_with(message), "{text}: {}", errors[0].1);
        }
    }

    #[test]
    fn extra_tool_errors_point_at_their_row() {
        let tool = |id: &str, exes: &[&str]| ExtraToolForm {
            id: id.into(),
            name: String::new(),
            executables: exes.iter().map(|exe| (*exe).to_owned()).collect(),
        };
        let form = SettingsForm {
            extra_tools: vec![
                tool("caprica-gui", &["CapricaGui.exe"]),
                tool("", &["x.exe"]),
                tool("bad id", &["  ", ""]),
                tool("CAPRICA-GUI", &[r"C:\Tools\Caprica.exe"]),
                tool("ok", &["bin/tool"]),
            ],
            ..valid_form()
        };
        let expected = [
            ("extra_tools.1.id", "Give the tool an id, such as caprica-gui."),
            ("extra_tools.2.id", "Use letters, digits, - and _ only in the id."),
            (
                "extra_tools.2.executables",
                "Enter at least one executable name, such as CapricaGui.exe.",
            ),
            (
                "extra_tools.3.id",
                "Another extra tool above has this id; put its names there.",
            ),
            (
                "extra_tools.3.executables",
                "\"C:\\\\Tools\\\\Caprica.exe\" is a path; enter the file name alone, such as CapricaGui.exe.",
            ),
            (
                "extra_tools.4.executables",
                "\"bin/tool\" is a path; enter the file name alone, such as CapricaGui.exe.",
            ),
        ]
        .map(|(field, message)| (field.to_owned(), message.to_owned()));
        assert_eq!(errors_of(&form), expected);
    }

    #[test]
    fn applying_keeps_build_profiles_and_trims() {
        let mut settings = Settings::default();
        settings
            .builds
            .profiles
            .push(mossy_protocol::build::BuildProfile {
                name: "Quests".into(),
                program: "PapyrusCompiler.exe".into(),
                args: Vec::new(),
                working_dir: None,
                env: Default::default(),
            });
        let form = SettingsForm {
            bridge_url: " ws://127.0.0.1:9/bridge ".into(),
            bridge_enabled: false,
            extra_tools: vec![ExtraToolForm {
                id: " xedit ".into(),
                name: "  ".into(),
                executables: vec![" SSEEdit.exe ".into(), "".into()],
            }],
            hub_url: String::new(),
            hub_token: " abc ".into(),
            display_name: " Ada ".into(),
            notify_builds: false,
            notify_tool_exits: true,
            embed_address: " 127.0.0.1:47821 ".into(),
        };
        let applied = apply_form(&settings, &form).expect("valid");
        assert_eq!(applied.builds, settings.builds);
        assert_eq!(applied.bridge.url, "ws://127.0.0.1:9/bridge");
        assert!(!applied.bridge.enabled);
        assert_eq!(
            applied.tools.extra,
            [ExtraTool {
                id: "xedit".into(),
                name: None,
                executables: vec!["SSEEdit.exe".into()],
            }]
        );
        assert_eq!(applied.editor.token, "abc");
        assert_eq!(applied.editor.display_name, "Ada");
        assert_eq!(applied.embedded_panels.address, "127.0.0.1:47821");
        assert!(!applied.notifications.builds && applied.notifications.tool_exits);
        assert_eq!(form_from_settings(&applied).extra_tools[0].name, "");
        assert!(needs_restart(&settings, &applied));

        let mut quiet = settings.clone();
        quiet.notifications.builds = false;
        assert!(!needs_restart(&settings, &quiet));
    }
}
