//! The Editor panel: a shared Papyrus script or notes file, edited live with other modders.
//!
//! The page asks the backend where the hub is ([`ipc::editor_config`]), then opens rooms in the
//! bundled code editor ([`ipc::EditorRoom`]). Opening a local file reads it through the
//! backend, joins the room named after it and seeds the room with the file's text only if the
//! room is empty after the first sync. Saving writes the editor's text back, and when the file
//! changed on disk since it was read, asks before overwriting. The side column
//! ([`side`]) lists who is here, who came and went, and who changed what.

mod side;

use leptos::html::Div;
use leptos::prelude::*;
use mossy_protocol::editor::{DiskStamp, EditorConfig, LocalHub, is_valid_room_name};
use mossy_protocol::ipc::{ErrorCode, FileFilter};

use crate::ipc::{
    self, ChangeEntry, ConnectionState, ConnectionStatus, EditorRoom, Peer, PresenceEvent,
    RoomCallbacks, RoomLoaded, RoomOptions,
};
use side::{ChangesList, PresenceList};

/// Presence history lines kept on screen; older ones scroll away.
const PRESENCE_HISTORY: usize = 100;

/// The local file behind the open room, when there is one.
#[derive(Clone, PartialEq)]
struct OpenFile {
    path: String,
    stamp: DiskStamp,
}

/// What is open in the editor.
#[derive(Clone, PartialEq)]
struct OpenDoc {
    room: String,
    file: Option<OpenFile>,
}

/// The Editor panel.
#[component]
pub fn EditorPage() -> impl IntoView {
    let config = LocalResource::new(ipc::editor_config);
    view! {
        <section class="editor-panel">
            <header class="editor-header">
                <div>
                    <h1>"Editor"</h1>
                    <p class="panel-sub">
                        "Edit a script or notes file together, live. Edits merge; nothing is lost."
                    </p>
                </div>
            </header>
            <Suspense fallback=|| view! { <p class="loading">"Loading the editor settings…"</p> }>
                {move || {
                    config
                        .get()
                        .map(|result| match result {
                            Ok(config) => view! { <EditorWorkspace config /> }.into_any(),
                            Err(err) => {
                                view! {
                                    <div class="error-box">
                                        <p>{err.message}</p>
                                        <p>"Restart Mossy Live; if it stays, see the log."</p>
                                    </div>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Toolbar, editor and side column, once the settings are known.
#[component]
fn EditorWorkspace(config: EditorConfig) -> impl IntoView {
    let host = NodeRef::<Div>::new();
    let room_handle = StoredValue::new_local(None::<EditorRoom>);
    // Runs `action` on the open room, if one is open.
    let with_room = move |action: fn(&EditorRoom)| {
        room_handle.with_value(|room| {
            if let Some(room) = room {
                action(room);
            }
        });
    };
    let doc = RwSignal::new(None::<OpenDoc>);
    let status = RwSignal::new(None::<ConnectionStatus>);
    let peers = RwSignal::new(Vec::<Peer>::new());
    let presence = RwSignal::new(Vec::<PresenceEvent>::new());
    let changes = RwSignal::new(Vec::<ChangeEntry>::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let conflict = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let path_input = RwSignal::new(String::new());
    let room_input = RwSignal::new(String::new());
    let config = StoredValue::new(config);

    on_cleanup(move || room_handle.update_value(|room| drop(room.take())));

    // Leaves the current room (if any) and joins `room`; returns the new room handle's result.
    let join = move |room: String, file: Option<OpenFile>, seed: Option<String>| {
        room_handle.update_value(|current| drop(current.take()));
        let Some(host) = host.get_untracked() else {
            return;
        };
        status.set(None);
        peers.set(Vec::new());
        presence.set(Vec::new());
        changes.set(Vec::new());
        conflict.set(false);
        let options = config.with_value(|c| RoomOptions {
            url: c.hub_url.clone(),
            room: room.clone(),
            token: c.token.clone(),
            name: c.display_name.clone(),
            colour: c.colour.clone(),
        });
        let callbacks = RoomCallbacks {
            status: Box::new(move |s| status.set(Some(s))),
            peers: Box::new(move |list| peers.set(list)),
            presence: Box::new(move |event| {
                presence.update(|list| {
                    list.insert(0, event);
                    list.truncate(PRESENCE_HISTORY);
                })
            }),
            changes: Box::new(move |list| changes.set(list)),
            loaded: Box::new(move |loaded: RoomLoaded| {
                if !loaded.seeded && !loaded.matches_file {
                    notice.set(Some(
                        "This room already had text, and it differs from the file on disk. \
                         Saving writes the room's text to the file."
                            .into(),
                    ));
                }
            }),
        };
        match EditorRoom::open(&host, &options, callbacks) {
            Ok(opened) => {
                if let Some(text) = &seed {
                    opened.seed_if_empty(text);
                }
                opened.focus();
                room_handle.set_value(Some(opened));
                doc.set(Some(OpenDoc { room, file }));
            }
            Err(err) => error.set(Some(err.message)),
        }
    };

    let open_file = move || {
        let path = path_input.get_untracked().trim().to_owned();
        error.set(None);
        notice.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ipc::editor_open_file(&path).await {
                Ok(opened) => {
                    let file = OpenFile {
                        path: opened.path,
                        stamp: opened.disk_stamp,
                    };
                    join(opened.room, Some(file), Some(opened.text));
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };

    // The system's file picker fills in the path and opens it, as typing it would.
    let browse = move || {
        leptos::task::spawn_local(async move {
            let filters = [
                FileFilter {
                    name: "Papyrus scripts".into(),
                    extensions: vec!["psc".into()],
                },
                FileFilter {
                    name: "Text and notes".into(),
                    extensions: vec!["txt".into(), "md".into(), "ini".into(), "json".into()],
                },
            ];
            match ipc::pick_file(&filters).await {
                Ok(Some(path)) => {
                    path_input.set(path);
                    open_file();
                }
                Ok(None) => {}
                Err(err) => error.set(Some(err.message)),
            }
        });
    };

    let join_room = move || {
        let room = room_input.get_untracked().trim().to_owned();
        error.set(None);
        notice.set(None);
        if is_valid_room_name(&room) {
            join(room, None, None);
        } else {
            error.set(Some(
                "A room name is 1 to 128 letters, digits, '-', '_' or '.', without '..'.".into(),
            ));
        }
    };

    let save = move |overwrite: bool| {
        let Some(OpenDoc {
            file: Some(file), ..
        }) = doc.get_untracked()
        else {
            return;
        };
        let Some(text) = room_handle.with_value(|room| room.as_ref().map(EditorRoom::text)) else {
            return;
        };
        error.set(None);
        conflict.set(false);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ipc::editor_save_file(&file.path, &text, &file.stamp, overwrite).await {
                Ok(stamp) => {
                    doc.update(|doc| {
                        if let Some(OpenDoc {
                            file: Some(open), ..
                        }) = doc
                            && open.path == file.path
                        {
                            open.stamp = stamp;
                        }
                    });
                    notice.set(Some(format!("Saved {}.", file.path)));
                }
                Err(err) if err.code == ErrorCode::ChangedOnDisk => conflict.set(true),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };

    let can_save = move || doc.with(|doc| matches!(doc, Some(OpenDoc { file: Some(_), .. })));
    let local_hub = config.with_value(|c| c.local_hub.clone());

    view! {
        <div class="editor-toolbar">
            <input
                id="editor-path"
                class="path-input"
                placeholder="Path of a .psc script or notes file"
                prop:value=move || path_input.get()
                on:input=move |ev| path_input.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        open_file();
                    }
                }
            />
            <button id="editor-open" disabled=move || busy.get() on:click=move |_| open_file()>
                "Open"
            </button>
            <button id="editor-browse" disabled=move || busy.get() on:click=move |_| browse()>
                "Browse…"
            </button>
            <input
                id="editor-room"
                class="room-input"
                placeholder="Room name"
                prop:value=move || room_input.get()
                on:input=move |ev| room_input.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        join_room();
                    }
                }
            />
            <button id="editor-join" on:click=move |_| join_room()>
                "Join room"
            </button>
            <button
                id="editor-undo"
                title="Undo your last edit (Ctrl+Z); others' edits stay"
                disabled=move || doc.with(Option::is_none)
                on:click=move |_| with_room(EditorRoom::undo)
            >
                "Undo"
            </button>
            <button
                id="editor-redo"
                title="Redo (Ctrl+Y)"
                disabled=move || doc.with(Option::is_none)
                on:click=move |_| with_room(EditorRoom::redo)
            >
                "Redo"
            </button>
            <button
                id="editor-save"
                class="primary"
                disabled=move || busy.get() || !can_save()
                on:click=move |_| save(false)
            >
                "Save"
            </button>
            <ConnectionChip status />
            <span class="editor-doc-name">
                {move || {
                    doc.with(|doc| match doc {
                        Some(OpenDoc { room, file: Some(file) }) => {
                            format!("{} · room {room}", file.path)
                        }
                        Some(OpenDoc { room, file: None }) => format!("room {room}"),
                        None => String::new(),
                    })
                }}
            </span>
        </div>
        {match local_hub {
            LocalHub::Off { reason } => {
                Some(
                    view! {
                        <p class="notice" id="editor-hub-off">
                            {reason}
                            " You can still join a team hub set in the settings."
                        </p>
                    },
                )
            }
            _ => None,
        }}
        <Show when=move || conflict.get()>
            <div class="conflict-prompt" id="editor-conflict" role="alertdialog">
                <p>"The file changed on disk since you opened it."</p>
                <button class="danger" id="editor-overwrite" on:click=move |_| save(true)>
                    "Overwrite"
                </button>
                <button id="editor-cancel" on:click=move |_| conflict.set(false)>
                    "Cancel"
                </button>
            </div>
        </Show>
        {move || error.get().map(|message| view! { <div class="error-box" id="editor-error"><p>{message}</p></div> })}
        {move || notice.get().map(|message| view! { <p class="form-message" id="editor-notice">{message}</p> })}
        <div class="editor-body">
            <div class="editor-main">
                <Show when=move || doc.with(Option::is_none)>
                    <p class="empty">
                        "Open a local file to share it in a room named after it, or join a room by name."
                    </p>
                </Show>
                <Show when=move || {
                    doc.with(Option::is_some)
                        && status.with(|s| s.is_some_and(|s| s.state == ConnectionState::Connecting))
                }>
                    <p class="editor-waiting">
                        "Waiting for the hub; the shared text appears once it answers."
                    </p>
                </Show>
                <div class="editor-host" node_ref=host></div>
            </div>
            <aside class="editor-side">
                <PresenceList peers presence />
                <ChangesList
                    changes
                    on_jump=Callback::new(move |key: String| {
                        room_handle.with_value(|room| {
                            if let Some(room) = room
                                && !room.jump_to(&key)
                            {
                                notice.set(Some("That text is gone now.".into()));
                            }
                        })
                    })
                />
            </aside>
        </div>
    }
}

/// "connected" / "offline, N edits waiting" / "reconnecting".
#[component]
fn ConnectionChip(status: RwSignal<Option<ConnectionStatus>>) -> impl IntoView {
    let state = move || match status.get().map(|s| s.state) {
        None => "none",
        Some(ConnectionState::Connecting) => "connecting",
        Some(ConnectionState::Connected) => "connected",
        Some(ConnectionState::Offline) => "offline",
        Some(ConnectionState::Reconnecting) => "reconnecting",
    };
    let label = move || match status.get() {
        None => "not in a room".to_owned(),
        Some(s) => match s.state {
            ConnectionState::Connecting => "connecting".to_owned(),
            ConnectionState::Connected => "connected".to_owned(),
            ConnectionState::Reconnecting => "reconnecting".to_owned(),
            ConnectionState::Offline if s.pending == 1 => "offline, 1 edit waiting".to_owned(),
            ConnectionState::Offline => format!("offline, {} edits waiting", s.pending),
        },
    };
    view! {
        <span class="connection-chip" id="editor-connection" data-state=state>
            <span class="dot"></span>
            {label}
        </span>
    }
}
