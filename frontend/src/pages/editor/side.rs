//! The Editor panel's side column: who is here, who came and went, and the Changes list.

use leptos::prelude::*;
use mossy_protocol::editor::nearest_peer_colour;

use crate::format::clock_time;
use crate::ipc::{ChangeEntry, Peer, PresenceEvent, PresenceKind};

/// The class that paints a peer's colour dot (the stylesheet has one per palette colour).
fn dot_class(colour: &str) -> String {
    format!("peer-dot peer-colour-{}", nearest_peer_colour(colour))
}

/// Who is in the room now, then the joined/left history, newest first.
#[component]
pub fn PresenceList(
    peers: RwSignal<Vec<Peer>>,
    presence: RwSignal<Vec<PresenceEvent>>,
) -> impl IntoView {
    view! {
        <section class="side-box presence" id="editor-presence">
            <h2>"Presence"</h2>
            <ul>
                <For
                    each=move || peers.get()
                    key=|peer| (peer.id, peer.name.clone(), peer.colour.clone())
                    let:peer
                >
                    <li class="peer" data-me=peer.me.to_string()>
                        <span class=dot_class(&peer.colour)></span>
                        <span class="who">{peer.name.clone()}</span>
                        {peer.me.then(|| view! { <span class="what">"(you)"</span> })}
                    </li>
                </For>
                <Show when=move || !presence.with(Vec::is_empty)>
                    <li class="sub">"History"</li>
                </Show>
                <For
                    each=move || presence.get()
                    key=|event| (event.id, event.at.to_bits(), event.kind == PresenceKind::Left)
                    let:event
                >
                    {
                        let kind = match event.kind {
                            PresenceKind::Joined => "joined",
                            PresenceKind::Left => "left",
                        };
                        view! {
                            <li class="presence-event" data-kind=kind>
                                <span class=dot_class(&event.colour)></span>
                                <span class="who">{event.name.clone()}</span>
                                <span class="what">{kind}</span>
                                <time>{clock_time(event.at as i64)}</time>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}

/// Who changed what and when, newest first; a click jumps to the place.
#[component]
pub fn ChangesList(
    changes: RwSignal<Vec<ChangeEntry>>,
    on_jump: Callback<String>,
) -> impl IntoView {
    view! {
        <section class="side-box changes" id="editor-changes">
            <h2>"Changes"</h2>
            <Show
                when=move || !changes.with(Vec::is_empty)
                fallback=|| view! { <p class="empty">"No changes yet."</p> }
            >
                <ul>
                    <For
                        each=move || changes.get()
                        key=|change| (change.key.clone(), change.summary.clone(), change.at.to_bits())
                        let:change
                    >
                        {
                            let key = change.key.clone();
                            let who = if change.mine { format!("{} (you)", change.name) } else { change.name.clone() };
                            view! {
                                <li
                                    class="change-row"
                                    data-mine=change.mine.to_string()
                                    title="Go to this change"
                                    on:click=move |_| on_jump.run(key.clone())
                                >
                                    <span class=dot_class(&change.colour)></span>
                                    <span class="who">{who}</span>
                                    <span class="what">{change.summary.clone()}</span>
                                    <time>{clock_time(change.at as i64)}</time>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        </section>
    }
}
