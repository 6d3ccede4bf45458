//! `snapshot_cost`: what a compaction costs the event loop at the default limits (issue 8: no
//! loop iteration may spend more than 50 ms on it).
//!
//! ```text
//! cargo run --release --example snapshot_cost [ROUNDS] [TEXT_BYTES...]
//! ```
//! For each message size (default 100 and 10 bytes) it builds the largest state the default
//! limits allow in the parts that grow: `--max-offline-bytes` (64 MiB) of offline messages
//! spread over `--max-accounts` (100,000) recipients, a profile with every attribute set and
//! five blocks for each of them, committed to the journal as the server would. Then, ROUNDS times (default 3), it times what the loop pays:
//! the freeze when a compaction begins (`Chat::freeze`), and each step of writing the snapshot
//! through a real store in a temporary directory (`Store::compaction_step`, the loop's budget),
//! with one user's queue, blocks and profile changed between steps (the copy-on-write cost a
//! command pays while a compaction runs); for comparison, turning the whole state into records at once (what the begin iteration did
//! before the freeze). Prints one markdown row per size: medians over the rounds, and the worst
//! step of all rounds.

use chatserver::chat::{Chat, Settings};
use chatserver::config::Config;
use chatserver::record::Record;
use chatserver::store::{Store, COMPACTION_STEP_BYTES};
use chatserver::time::Now;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 100_000;
const BLOCKS_EACH: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let mut sizes: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if sizes.is_empty() {
        sizes = vec![100, 10];
    }
    println!("| message text | offline messages | records | freeze (median) | all records at once (median) | steps per compaction | step median | worst step | worst change between steps | compaction total (median) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for size in sizes {
        row(size, rounds.max(1))?;
    }
    Ok(())
}

/// Build the state for one message size, measure it `rounds` times and print its row.
fn row(size: usize, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("snapshot_cost.{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("credentials.txt"), "")?;
    let config = Config {
        credentials: dir.join("credentials.txt"),
        data_dir: dir.join("data"),
        ..Config::default()
    };
    let (mut store, credentials, _) = Store::open(&config)?;
    let mut chat = Chat::new(Settings::from(&config), credentials, Now::read(), [7; 32]);
    let messages = fill(&mut chat, &mut store, &config, size)?;
    let records = chat.freeze().into_records().len();

    let (mut freezes, mut at_once, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let (mut steps_all, mut changes) = (Vec::new(), Vec::new());
    let mut steps_per = 0;
    for round in 0..rounds {
        let t = Instant::now();
        let frozen = chat.freeze();
        let freeze = t.elapsed();
        freezes.push(freeze);
        let start = Instant::now();
        store.begin_compaction(frozen)?;
        let mut steps = 0;
        loop {
            let t = Instant::now();
            let done = store.compaction_step(COMPACTION_STEP_BYTES)?;
            steps_all.push(t.elapsed());
            steps += 1;
            // Between steps the users go on: each change to a frozen part copies it first.
            let t = Instant::now();
            change(&mut chat, round * 100_000 + steps);
            changes.push(t.elapsed());
            if done {
                break;
            }
        }
        totals.push(start.elapsed() + freeze);
        steps_per = steps;
    }
    // Last: freeing millions of small records leaves work for the allocator's next call.
    for _ in 0..rounds {
        let t = Instant::now();
        let all = chat.freeze().into_records();
        at_once.push(t.elapsed());
        drop(all);
    }
    let worst = steps_all.iter().max().copied().unwrap_or_default();
    let worst_change = changes.iter().max().copied().unwrap_or_default();
    println!(
        "| {size} B | {messages} | {records} | {} | {} | {steps_per} | {} | {} | {} | {} |",
        ms(median(&mut freezes)),
        ms(median(&mut at_once)),
        ms(median(&mut steps_all)),
        ms(worst),
        ms(worst_change),
        ms(median(&mut totals)),
    );
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Commit and replay the state: offline messages up to the byte limit round-robin over every
/// account, and each account's profile and blocks. The journal then holds it all, as the
/// server's would when its compaction begins. Returns the number of offline messages.
fn fill(
    chat: &mut Chat,
    store: &mut Store,
    config: &Config,
    size: usize,
) -> Result<usize, Box<dyn std::error::Error>> {
    let users: Vec<Arc<str>> = (0..ACCOUNTS).map(|i| Arc::from(format!("u{i}"))).collect();
    let from: Arc<str> = Arc::from("sender");
    let text: String = "x".repeat(size);
    // The charge of one message against --max-offline-bytes (chat::limits::offline_cost).
    let cost = from.len() + size + 16;
    let messages = config.max_offline_bytes / cost;
    let offline = (0..messages).map(|n| Record::Offline {
        to: users[n % ACCOUNTS].clone(),
        from: from.clone(),
        at_ms: n as u64,
        // Each message its own text, as from the network.
        text: Arc::from(text.as_str()),
    });
    let attributes = ["age", "birthday", "job", "phone_number", "self_description"];
    let profiles = users.iter().flat_map(|user| {
        attributes
            .into_iter()
            .map(move |attribute| Record::Profile {
                user: user.to_string(),
                attribute: attribute.into(),
                value: format!("{attribute} of {user}"),
            })
    });
    let blocks = (0..ACCOUNTS).flat_map(|i| {
        let users = &users;
        (1..=BLOCKS_EACH).map(move |k| Record::Block {
            by: users[i].to_string(),
            user: users[(i + k) % ACCOUNTS].to_string(),
        })
    });
    let mut batch = Vec::with_capacity(10_000);
    for r in offline.chain(profiles).chain(blocks) {
        batch.push(r);
        if batch.len() == batch.capacity() {
            commit(chat, store, &mut batch)?;
        }
    }
    commit(chat, store, &mut batch)?;
    Ok(messages)
}

fn commit(
    chat: &mut Chat,
    store: &mut Store,
    batch: &mut Vec<Record>,
) -> Result<(), Box<dyn std::error::Error>> {
    store.commit(batch)?;
    for r in batch.drain(..) {
        chat.replay(r);
    }
    Ok(())
}

/// One user's state changes: a message queued for account `n`, a block and a profile change.
fn change(chat: &mut Chat, n: usize) {
    let user = format!("u{}", (n * 7919) % ACCOUNTS);
    chat.replay(Record::Offline {
        to: Arc::from(user.as_str()),
        from: Arc::from("sender"),
        at_ms: n as u64,
        text: Arc::from("changed"),
    });
    chat.replay(Record::Block {
        by: user.clone(),
        user: "sender".into(),
    });
    chat.replay(Record::Profile {
        user,
        attribute: "job".into(),
        value: format!("job {n}"),
    });
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
