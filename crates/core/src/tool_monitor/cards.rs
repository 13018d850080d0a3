//! The tool cards and how each bus event changes them.
//!
//! Pure state, no I/O: [`Cards::apply`] takes one [`BusEvent`], updates the cards and says
//! which feed entries the event produced, so the async task around it only moves events in
//! and entries out.
//!
//! Mossy's reports are tracked per pid: `tool_detected` with a pid adds that pid,
//! `tool_exited` removes it (and any pid-less report, which cannot be told apart); a
//! `tool_exited` without a pid clears the tool. Only changes are logged in the feed, so a
//! Mossy that repeats `tool_detected` as a heartbeat does not flood it.

use std::collections::{BTreeSet, HashMap};

use mossy_protocol::bridge::BridgeMessage;
use mossy_protocol::ipc::{FeedKind, ToolCard, ToolId, ToolInstance};

use crate::bus::{BusEvent, ToolProcess};
use crate::clock::event_time_ms;
use crate::feed::NewFeedEntry;
use crate::tools::ToolTable;
use tracing::warn;

/// Cards for tools only Mossy knows. A modder runs a handful of tools; a sender inventing
/// thousands of names would otherwise grow every update and the page without bound.
pub(crate) const MAX_REPORTED_ONLY_CARDS: usize = 32;

/// Every card, table tools first, with Mossy's open reports per card.
#[derive(Debug, Clone)]
pub(crate) struct Cards {
    cards: Vec<ToolCard>,
    index: HashMap<ToolId, usize>,
    /// Per card: the pids Mossy reported running (`None` for a report without a pid).
    reported: Vec<BTreeSet<Option<u32>>>,
}

impl Cards {
    /// One empty card per table tool, in table order.
    pub(crate) fn new(table: &ToolTable) -> Self {
        let mut cards = Self {
            cards: Vec::new(),
            index: HashMap::new(),
            reported: Vec::new(),
        };
        for tool in table.tools() {
            cards.card_for(&tool.id, &tool.name);
        }
        cards
    }

    /// The cards as the window shows them.
    pub(crate) fn cards(&self) -> &[ToolCard] {
        &self.cards
    }

    /// Applies one event; returns whether any card changed and the feed entries to write.
    pub(crate) fn apply(
        &mut self,
        event: &BusEvent,
        table: &ToolTable,
    ) -> (bool, Vec<NewFeedEntry>) {
        match event {
            BusEvent::ToolStarted(process) => {
                let index = self.card_for_process(process, table);
                let instances = &mut self.cards[index].instances;
                instances.retain(|instance| instance.pid != process.pid);
                instances.push(instance(process));
                instances.sort_by_key(|instance| (instance.started_at_ms, instance.pid));
                let entry = self.entry(index, process.started_at_ms, FeedKind::Started, process);
                (true, vec![entry])
            }
            BusEvent::ToolExited {
                process,
                noticed_at_ms,
            } => {
                let index = self.card_for_process(process, table);
                self.cards[index]
                    .instances
                    .retain(|instance| instance.pid != process.pid);
                let entry = self.entry(index, *noticed_at_ms, FeedKind::Exited, process);
                (true, vec![entry])
            }
            BusEvent::ToolCrashed {
                process,
                noticed_at_ms,
            } => {
                let index = self.card_for_process(process, table);
                let entry = self.entry(index, *noticed_at_ms, FeedKind::Crashed, process);
                (false, vec![entry])
            }
            BusEvent::ToolsPolled { running } => {
                (self.replace_instances(running, table), Vec::new())
            }
            BusEvent::BridgeMessageReceived {
                message,
                received_at_ms,
            } => self.apply_report(message, *received_at_ms, table),
            _ => (false, Vec::new()),
        }
    }

    fn apply_report(
        &mut self,
        message: &BridgeMessage,
        received_at_ms: i64,
        table: &ToolTable,
    ) -> (bool, Vec<NewFeedEntry>) {
        let (tool, pid, at, detected) = match message {
            BridgeMessage::ToolDetected { tool, pid, at } => (tool, *pid, at, true),
            BridgeMessage::ToolExited { tool, pid, at } => (tool, *pid, at, false),
            _ => return (false, Vec::new()),
        };
        let at_ms = at
            .as_ref()
            .and_then(event_time_ms)
            .unwrap_or(received_at_ms);
        let (id, name) = table.tool_for_reported_name(tool);
        let index = match self.index.get(&id) {
            Some(&index) => index,
            // An exit of a tool never reported changes nothing; no card for it.
            None if !detected => return (false, Vec::new()),
            None if self.cards.len() >= table.tools().len() + MAX_REPORTED_ONLY_CARDS => {
                warn!(tool = %name, limit = MAX_REPORTED_ONLY_CARDS, "too many unknown tools; report ignored");
                return (false, Vec::new());
            }
            None => self.card_for(&id, &name),
        };
        let card = &mut self.cards[index];
        let before = card.clone();

        let logged = if detected {
            card.reported_by_mossy_at_ms = Some(
                card.reported_by_mossy_at_ms
                    .map_or(at_ms, |last| last.max(at_ms)),
            );
            self.reported[index]
                .insert(pid)
                .then_some(FeedKind::Reported)
        } else {
            let open = &mut self.reported[index];
            let count = open.len();
            match pid {
                Some(pid) => open.retain(|reported| matches!(reported, Some(p) if *p != pid)),
                None => open.clear(),
            }
            if open.is_empty() {
                card.reported_by_mossy_at_ms = None;
            }
            (open.len() < count).then_some(FeedKind::ReportedExited)
        };

        let changed = self.cards[index] != before;
        let entries = logged
            .map(|kind| NewFeedEntry {
                at_ms,
                kind,
                tool: id,
                tool_name: self.cards[index].name.clone(),
                pid,
                exe: None,
            })
            .into_iter()
            .collect();
        (changed, entries)
    }

    /// Makes every card's instances exactly `running`; true if that changed anything.
    fn replace_instances(&mut self, running: &[ToolProcess], table: &ToolTable) -> bool {
        let mut fresh: Vec<Vec<ToolInstance>> = vec![Vec::new(); self.cards.len()];
        for process in running {
            let index = self.card_for_process(process, table);
            if fresh.len() <= index {
                fresh.resize(index + 1, Vec::new());
            }
            fresh[index].push(instance(process));
        }

        let mut changed = false;
        for (card, mut instances) in self.cards.iter_mut().zip(fresh) {
            instances.sort_by_key(|instance| (instance.started_at_ms, instance.pid));
            if card.instances != instances {
                card.instances = instances;
                changed = true;
            }
        }
        changed
    }

    fn card_for_process(&mut self, process: &ToolProcess, table: &ToolTable) -> usize {
        let name = table
            .get(&process.tool)
            .map_or(process.tool.as_str(), |tool| &tool.name);
        let name = name.to_owned();
        self.card_for(&process.tool, &name)
    }

    /// The card for `id`, added after the others if it is new.
    fn card_for(&mut self, id: &ToolId, name: &str) -> usize {
        if let Some(&index) = self.index.get(id) {
            return index;
        }
        let index = self.cards.len();
        self.cards.push(ToolCard {
            id: id.clone(),
            name: name.to_owned(),
            instances: Vec::new(),
            reported_by_mossy_at_ms: None,
        });
        self.reported.push(BTreeSet::new());
        self.index.insert(id.clone(), index);
        index
    }

    fn entry(
        &self,
        index: usize,
        at_ms: i64,
        kind: FeedKind,
        process: &ToolProcess,
    ) -> NewFeedEntry {
        NewFeedEntry {
            at_ms,
            kind,
            tool: process.tool.clone(),
            tool_name: self.cards[index].name.clone(),
            pid: Some(process.pid),
            exe: Some(process.exe.clone()),
        }
    }
}

fn instance(process: &ToolProcess) -> ToolInstance {
    ToolInstance {
        pid: process.pid,
        exe: process.exe.clone(),
        memory_bytes: process.memory_bytes,
        started_at_ms: process.started_at_ms,
    }
}

#[cfg(test)]
mod tests {
    use mossy_protocol::bridge::EventTime;

    use super::*;

    fn process(tool: &str, pid: u32, started_at_ms: i64) -> ToolProcess {
        ToolProcess {
            tool: ToolId(tool.into()),
            pid,
            exe: format!("{tool}.exe"),
            started_at_ms,
            memory_bytes: 100,
        }
    }

    fn report(detected: bool, tool: &str, pid: Option<u32>, at: Option<EventTime>) -> BusEvent {
        let tool = tool.to_owned();
        let message = if detected {
            BridgeMessage::ToolDetected { tool, pid, at }
        } else {
            BridgeMessage::ToolExited { tool, pid, at }
        };
        BusEvent::BridgeMessageReceived {
            message,
            received_at_ms: 50_000,
        }
    }

    fn card<'a>(cards: &'a Cards, id: &str) -> &'a ToolCard {
        cards
            .cards()
            .iter()
            .find(|card| card.id.as_str() == id)
            .expect("card exists")
    }

    #[test]
    fn process_events_keep_instances_oldest_first_and_log_entries() {
        let table = ToolTable::builtin();
        let mut cards = Cards::new(&table);
        let late = process("blender", 20, 2_000);
        let early = process("blender", 30, 1_000);
        assert!(cards.apply(&BusEvent::ToolStarted(late.clone()), &table).0);
        let (changed, entries) = cards.apply(&BusEvent::ToolStarted(early.clone()), &table);
        assert!(changed);
        assert_eq!(
            entries,
            [NewFeedEntry {
                at_ms: 1_000,
                kind: FeedKind::Started,
                tool: ToolId("blender".into()),
                tool_name: "Blender".into(),
                pid: Some(30),
                exe: Some("blender.exe".into()),
            }]
        );
        assert_eq!(
            card(&cards, "blender").instances,
            [instance(&early), instance(&late)]
        );

        let exited = BusEvent::ToolExited {
            process: early,
            noticed_at_ms: 9_000,
        };
        let (_, entries) = cards.apply(&exited, &table);
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.kind, e.at_ms))
                .collect::<Vec<_>>(),
            [(FeedKind::Exited, 9_000)]
        );
        assert_eq!(card(&cards, "blender").instances, [instance(&late)]);
    }

    #[test]
    fn a_crash_is_logged_and_leaves_the_instance_until_it_exits() {
        let table = ToolTable::builtin();
        let mut cards = Cards::new(&table);
        let kit = process("creation-kit", 40, 1_000);
        cards.apply(&BusEvent::ToolStarted(kit.clone()), &table);
        let crashed = BusEvent::ToolCrashed {
            process: kit.clone(),
            noticed_at_ms: 5_000,
        };
        let (changed, entries) = cards.apply(&crashed, &table);
        assert!(!changed);
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.kind, e.at_ms, e.pid))
                .collect::<Vec<_>>(),
            [(FeedKind::Crashed, 5_000, Some(40))]
        );
        assert_eq!(card(&cards, "creation-kit").instances, [instance(&kit)]);
    }

    #[test]
    fn polled_list_replaces_instances_and_reports_no_change_when_equal() {
        let table = ToolTable::builtin();
        let mut cards = Cards::new(&table);
        let stale = process("xedit", 5, 1_000);
        cards.apply(&BusEvent::ToolStarted(stale), &table);
        let running = vec![process("mo2", 7, 3_000), process("blender", 8, 2_000)];
        let polled = BusEvent::ToolsPolled {
            running: running.clone(),
        };
        assert_eq!(cards.apply(&polled, &table), (true, Vec::new()));
        assert_eq!(cards.apply(&polled, &table), (false, Vec::new()));
        let shown: Vec<(&str, Vec<u32>)> = cards
            .cards()
            .iter()
            .filter(|card| !card.instances.is_empty())
            .map(|card| {
                (
                    card.id.as_str(),
                    card.instances.iter().map(|i| i.pid).collect(),
                )
            })
            .collect();
        assert_eq!(shown, [("blender", vec![8]), ("mo2", vec![7])]);
    }

    #[test]
    fn mossy_reports_set_and_clear_the_card_and_log_only_changes() {
        let table = ToolTable::builtin();
        let mut cards = Cards::new(&table);
        let at = |ms| Some(EventTime::UnixMs(ms));
        let kinds = |(_, entries): (bool, Vec<NewFeedEntry>)| -> Vec<(FeedKind, i64, Option<u32>)> {
            entries.iter().map(|e| (e.kind, e.at_ms, e.pid)).collect()
        };

        assert_eq!(
            kinds(cards.apply(&report(true, "CreationKit", None, None), &table)),
            [(FeedKind::Reported, 50_000, None)]
        );
        assert_eq!(
            kinds(cards.apply(&report(true, "Creation Kit", None, at(60_000)), &table)),
            []
        );
        assert_eq!(
            card(&cards, "creation-kit").reported_by_mossy_at_ms,
            Some(60_000)
        );
        assert_eq!(
            kinds(cards.apply(&report(true, "CK", Some(4), at(61_000)), &table)),
            [(FeedKind::Reported, 61_000, Some(4))]
        );
        assert_eq!(
            kinds(cards.apply(&report(false, "ck", Some(4), at(70_000)), &table)),
            [(FeedKind::ReportedExited, 70_000, Some(4))]
        );
        assert_eq!(card(&cards, "creation-kit").reported_by_mossy_at_ms, None);
        assert_eq!(
            kinds(cards.apply(&report(false, "ck", None, None), &table)),
            []
        );

        let bad_time = Some(EventTime::Rfc3339("soon".into()));
        assert_eq!(
            kinds(cards.apply(&report(true, "Material Editor", Some(9), bad_time), &table)),
            [(FeedKind::Reported, 50_000, Some(9))]
        );
        assert_eq!(
            cards.cards().last(),
            Some(&ToolCard {
                id: ToolId("mossy:material-editor".into()),
                name: "Material Editor".into(),
                instances: Vec::new(),
                reported_by_mossy_at_ms: Some(50_000),
            })
        );
        assert_eq!(cards.cards().len(), table.tools().len() + 1);
    }

    // Regression: a sender inventing thousands of tool names grew every update, the page
    // and the backend's memory without bound.
    #[test]
    fn cards_for_unknown_tools_are_capped_and_exits_of_unseen_tools_add_none() {
        let table = ToolTable::builtin();
        let mut cards = Cards::new(&table);
        let builtin = cards.cards().len();

        let (changed, entries) = cards.apply(&report(false, "Never Seen", Some(1), None), &table);
        assert!(!changed && entries.is_empty());
        assert_eq!(cards.cards().len(), builtin);

        for n in 0..MAX_REPORTED_ONLY_CARDS + 10 {
            cards.apply(&report(true, &format!("Tool {n}"), Some(1), None), &table);
        }
        assert_eq!(cards.cards().len(), builtin + MAX_REPORTED_ONLY_CARDS);
        let (changed, entries) = cards.apply(&report(true, "Blender", Some(2), None), &table);
        assert!(changed, "built-in tools still take reports");
        assert_eq!(entries.len(), 1);
    }
}
