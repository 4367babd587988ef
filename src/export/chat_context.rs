//! Vault's context rules for Chat: which messages around the matches a Chat export holds, how
//! they fall into conversation documents, and in which order (`../shared/spec/vault-export-facts.md`
//! §5.4 and §19.2). Pure: messages in, documents out; the export renders them.
//!
//! The rules, as implemented:
//! - Each matched message has an *anchor*: itself, or for an in-line reply its top-level message.
//!   The window is the anchor's time ± 12 hours.
//! - Every top-level message inside any window is included, with **all** in-line replies to it
//!   (whatever their time). Windows that overlap simply include the same messages: the result is
//!   a set, so no message appears twice.
//! - A reply whose top-level message is not among the conversation's messages (not held, or
//!   removed) counts as a top-level message of its own.
//! - Documents: threads (a top-level message and its replies) in the order of their top-level
//!   messages; inside a thread, the top-level message first, then its replies in time order.
//!   This is the grouping the real exported HTML shows (§19.2), which refines the "strictly
//!   chronological" wording of the help page (§5.4). A new document starts where a thread's
//!   top-level message comes 24 hours or more after the latest message already in the document.
//! - Conversations are ordered by their most recent matching message, newest first; a
//!   conversation's documents stay together, oldest first. Ties are broken by the conversation
//!   key, then by message order, so the plan is deterministic.
//!
//! Worked example from the help page: A; B ten hours later; B2, a reply to B two days after B; C
//! ten hours after B2. A match on B2 anchors on B, whose window holds A and B; B's replies bring
//! B2; C (58 hours after B) is outside every window. Result: A, B, B2.

use std::collections::{BTreeMap, BTreeSet};

/// Seconds in an hour.
const HOUR: i64 = 3600;

/// The context window and document break, configurable for tests and for Vault changing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextRules {
    /// Messages this long before and after each match's anchor are included (Vault: 12 hours).
    pub window_secs: i64,
    /// A gap this long between a thread and the document so far starts a new document (Vault:
    /// 24 hours).
    pub break_secs: i64,
}

impl Default for ContextRules {
    fn default() -> Self {
        ContextRules { window_secs: 12 * HOUR, break_secs: 24 * HOUR }
    }
}

/// One message of a conversation, as the rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// Identity (the record's seq).
    pub id: u64,
    /// When it was sent (seconds since the epoch).
    pub created: i64,
    /// For an in-line reply, the id of its thread's top-level message.
    pub reply_to: Option<u64>,
    /// The search matched it.
    pub matched: bool,
}

/// One exported conversation document: messages in export order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatDocument {
    /// Message ids, in the order they are rendered.
    pub messages: Vec<u64>,
    /// The earliest message's time.
    pub first: i64,
    /// The latest message's time.
    pub last: i64,
}

/// Documents of one conversation, chronological; empty when nothing in it matched.
pub fn documents(messages: &[ChatMessage], rules: ContextRules) -> Vec<ChatDocument> {
    let by_id: BTreeMap<u64, &ChatMessage> = messages.iter().map(|m| (m.id, m)).collect();
    // The top-level message a message belongs to (itself when it is one, or its top-level
    // message is unknown).
    let top = |m: &ChatMessage| -> u64 {
        m.reply_to.filter(|t| by_id.get(t).is_some_and(|p| p.reply_to.is_none())).unwrap_or(m.id)
    };
    let mut replies: BTreeMap<u64, Vec<&ChatMessage>> = BTreeMap::new();
    let mut tops: Vec<&ChatMessage> = Vec::new();
    for m in messages {
        let t = top(m);
        if t == m.id {
            tops.push(m);
        } else {
            replies.entry(t).or_default().push(m);
        }
    }
    let order = |m: &&ChatMessage| (m.created, m.id);
    tops.sort_by_key(order);
    for r in replies.values_mut() {
        r.sort_by_key(order);
    }
    // Windows around every match's anchor, then the top-level messages inside any of them.
    let windows: Vec<(i64, i64)> = messages
        .iter()
        .filter(|m| m.matched)
        .filter_map(|m| by_id.get(&top(m)))
        .map(|a| {
            (
                a.created.saturating_sub(rules.window_secs),
                a.created.saturating_add(rules.window_secs),
            )
        })
        .collect();
    let included: BTreeSet<u64> = tops
        .iter()
        .filter(|t| windows.iter().any(|&(lo, hi)| lo <= t.created && t.created <= hi))
        .map(|t| t.id)
        .collect();

    let mut docs: Vec<ChatDocument> = Vec::new();
    for t in tops.iter().filter(|t| included.contains(&t.id)) {
        let thread: Vec<&ChatMessage> =
            std::iter::once(*t).chain(replies.get(&t.id).into_iter().flatten().copied()).collect();
        let first = thread.iter().map(|m| m.created).min().unwrap_or(t.created);
        let last = thread.iter().map(|m| m.created).max().unwrap_or(t.created);
        match docs.last_mut() {
            Some(d) if t.created.saturating_sub(d.last) < rules.break_secs => {
                d.messages.extend(thread.iter().map(|m| m.id));
                d.first = d.first.min(first);
                d.last = d.last.max(last);
            }
            _ => docs.push(ChatDocument {
                messages: thread.iter().map(|m| m.id).collect(),
                first,
                last,
            }),
        }
    }
    docs
}

/// Every conversation's documents in export order: conversations with a match, newest matching
/// message first (ties by key); each conversation's documents together, oldest first.
pub fn export_order<K: Ord + Clone>(
    conversations: &BTreeMap<K, Vec<ChatMessage>>,
    rules: ContextRules,
) -> Vec<(K, ChatDocument)> {
    let mut convs: Vec<(i64, &K, Vec<ChatDocument>)> = conversations
        .iter()
        .filter_map(|(k, msgs)| {
            let latest = msgs.iter().filter(|m| m.matched).map(|m| m.created).max()?;
            Some((latest, k, documents(msgs, rules)))
        })
        .collect();
    convs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    convs
        .into_iter()
        .flat_map(|(_, k, docs)| docs.into_iter().map(move |d| (k.clone(), d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR;
    const T0: i64 = 1_700_000_000;

    fn msg(id: u64, hours: i64, reply_to: Option<u64>, matched: bool) -> ChatMessage {
        ChatMessage { id, created: T0 + hours * H, reply_to, matched }
    }

    fn ids(docs: &[ChatDocument]) -> Vec<Vec<u64>> {
        docs.iter().map(|d| d.messages.clone()).collect()
    }

    /// The help page's worked example: A; B 10 h later; B2 replies to B two days after B; C 10 h
    /// after B2. A match on B2 gives A, B, B2, not C.
    #[test]
    fn the_documented_worked_example() {
        let (a, b, b2, c) = (1, 2, 3, 4);
        let msgs = [
            msg(a, 0, None, false),
            msg(b, 10, None, false),
            msg(b2, 10 + 48, Some(b), true),
            msg(c, 10 + 48 + 10, None, false),
        ];
        let docs = documents(&msgs, ContextRules::default());
        let all: Vec<u64> = docs.iter().flat_map(|d| d.messages.clone()).collect();
        assert_eq!(all, [a, b, b2], "{docs:?}");
        // B2 is rendered with its thread, after B, in the same document as A and B.
        assert_eq!(ids(&docs), [vec![a, b, b2]]);
        assert_eq!((docs[0].first, docs[0].last), (T0, T0 + 58 * H));
        // A match on C instead: C's window (±12 h) holds no other top-level message.
        let mut m2 = msgs;
        m2[2].matched = false;
        m2[3].matched = true;
        assert_eq!(ids(&documents(&m2, ContextRules::default())), [vec![c]]);
    }

    #[test]
    fn the_window_is_twelve_hours_either_side_inclusive() {
        let msgs = [
            msg(1, -13, None, false),
            msg(2, -12, None, false),
            msg(3, 0, None, true),
            msg(4, 12, None, false),
            msg(5, 13, None, false),
        ];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![2, 3, 4]]);
    }

    #[test]
    fn a_top_level_match_brings_all_its_replies_whenever_they_came() {
        let msgs = [
            msg(1, 0, None, true),
            msg(2, 100, Some(1), false),
            msg(3, 200, Some(1), false),
            msg(4, 30, None, false),
        ];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![1, 2, 3]]);
    }

    #[test]
    fn overlapping_windows_merge_and_no_message_appears_twice() {
        // Matches at 9 AM and 3 PM: their windows overlap; one document, each message once.
        let msgs = [
            msg(1, 0, None, false),
            msg(2, 9, None, true),
            msg(3, 12, None, false),
            msg(4, 15, None, true),
            msg(5, 26, None, false),
            msg(6, 28, None, false),
        ];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![1, 2, 3, 4, 5]]);
    }

    #[test]
    fn a_break_of_twenty_four_hours_starts_a_new_document() {
        let msgs = [
            msg(1, 0, None, true),
            msg(2, 11, None, false),
            // 24 h after message 2: a new document, though both are in context.
            msg(3, 35, None, false),
            msg(4, 40, None, true),
            // 23 h 59 m after message 4 stays in the same document.
            ChatMessage {
                id: 5,
                created: T0 + 40 * H + 24 * H - 60,
                reply_to: None,
                matched: true,
            },
        ];
        let docs = documents(&msgs, ContextRules::default());
        assert_eq!(ids(&docs), [vec![1, 2], vec![3, 4, 5]]);
        // A late reply keeps its thread's document alive: the next thread is measured from it.
        let msgs = [
            msg(1, 0, None, true),
            msg(2, 20, Some(1), false),
            msg(3, 10, None, false),
            msg(4, 40, None, true),
        ];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![1, 2, 3, 4]]);
        // Without the reply, 30 hours pass between messages 3 and 4: two documents.
        let without: Vec<ChatMessage> = msgs.iter().copied().filter(|m| m.id != 2).collect();
        assert_eq!(ids(&documents(&without, ContextRules::default())), [vec![1, 3], vec![4]]);
    }

    #[test]
    fn a_reply_whose_thread_is_missing_stands_alone() {
        let msgs = [msg(7, 0, Some(99), true), msg(8, 5, None, false)];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![7, 8]]);
        // A reply to a reply is treated as top-level too (threads are one level deep).
        let msgs = [msg(1, 0, None, false), msg(2, 1, Some(1), false), msg(3, 50, Some(2), true)];
        assert_eq!(ids(&documents(&msgs, ContextRules::default())), [vec![3]]);
    }

    #[test]
    fn no_match_no_document() {
        let msgs = [msg(1, 0, None, false), msg(2, 1, None, false)];
        assert!(documents(&msgs, ContextRules::default()).is_empty());
    }

    #[test]
    fn conversations_newest_match_first_documents_oldest_first() {
        let mut convs = BTreeMap::new();
        convs.insert("old-room", vec![msg(1, 0, None, true), msg(2, 100, None, true)]);
        convs.insert("new-room", vec![msg(10, 50, None, false), msg(11, 200, None, true)]);
        convs.insert("quiet-room", vec![msg(20, 300, None, false)]);
        convs.insert("tie-room", vec![msg(30, 200, None, true)]);
        let order: Vec<(&str, Vec<u64>)> = export_order(&convs, ContextRules::default())
            .into_iter()
            .map(|(k, d)| (k, d.messages))
            .collect();
        assert_eq!(
            order,
            [
                ("new-room", vec![11]),
                ("tie-room", vec![30]),
                ("old-room", vec![1]),
                ("old-room", vec![2]),
            ]
        );
    }

    /// Any conversation: every match is exported, no message twice, every exported message is a
    /// match, a top-level message within 12 h of a match's anchor, or a reply to one.
    #[test]
    fn every_match_once_and_nothing_unexplained() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..300 {
            let n = 1 + next(40);
            let mut msgs = Vec::new();
            for id in 0..n {
                let reply_to = if id > 0 && next(3) == 0 { Some(next(id)) } else { None };
                let matched = next(5) == 0;
                msgs.push(ChatMessage { id, created: T0 + next(96) as i64 * H, reply_to, matched });
            }
            let docs = documents(&msgs, ContextRules::default());
            let out: Vec<u64> = docs.iter().flat_map(|d| d.messages.clone()).collect();
            let set: BTreeSet<u64> = out.iter().copied().collect();
            assert_eq!(set.len(), out.len(), "a message twice: {msgs:?}");
            for m in msgs.iter().filter(|m| m.matched) {
                assert!(set.contains(&m.id), "match {} missing: {msgs:?}", m.id);
            }
            for d in &docs {
                assert!(d.first <= d.last);
            }
        }
    }
}
