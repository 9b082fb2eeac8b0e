//! Durable processing: events go into a "database" in batches, and a batch's replay ids are
//! committed only once the batch is written. After a crash, the events written since the last
//! stored commit come again; the database skips them by their key, so each event is in it once.
//!
//! The database here is an append-only JSON-lines file (`orders.jsonl`), standing in for a real
//! one (no database server or SQLite in this example's dependencies): a batch is one write and an
//! `fsync`, as a transaction would be one commit; a torn last line (a crash mid-write) is ignored
//! when the file is read back. With a real database, write the batch in one transaction with a
//! unique key on (channel, replay id) and `ON CONFLICT DO NOTHING`.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-tokio --example batch_to_database -- /event/Order__e
//! ```
//!
//! Against the local emulator: run `cargo run -p sfstream-cli -- emulator` and paste the
//! `export` lines it prints.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use sfstream_tokio::{Batch, CommitPolicy, FileStore, ReplayFallback};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

/// The stand-in database: one JSON object per line, keyed by channel and replay id.
struct Database {
    file: File,
    keys: HashSet<(String, i64)>,
}

impl Database {
    fn open(path: &str) -> std::io::Result<Self> {
        let mut keys = HashSet::new();
        if let Ok(existing) = File::open(path) {
            for line in BufReader::new(existing).lines() {
                // A line that does not read (torn by a crash) was never committed: skip it.
                let Ok(row) = serde_json::from_str::<serde_json::Value>(&line?) else {
                    continue;
                };
                if let (Some(channel), Some(id)) =
                    (row["channel"].as_str(), row["replayId"].as_i64())
                {
                    keys.insert((channel.to_owned(), id));
                }
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file, keys })
    }

    /// Writes the batch's new events in one write, made durable before it returns.
    fn insert(&mut self, batch: &Batch) -> std::io::Result<usize> {
        let mut rows = Vec::new();
        let mut new_keys = Vec::new();
        for message in batch {
            let Some(id) = message.replay_id() else {
                continue;
            };
            let key = (message.channel().to_owned(), id);
            if self.keys.contains(&key) {
                continue; // already written before a restart: delivered again, kept once
            }
            let row = serde_json::json!({
                "channel": message.channel(),
                "replayId": id,
                "createdDate": message.created_date().map(|t| t.to_string()),
                // The payload as the server wrote it, without parsing it into a value.
                "payload": message.payload_json(),
            });
            serde_json::to_writer(&mut rows, &row)?;
            rows.push(b'\n');
            new_keys.push(key);
        }
        self.file.write_all(&rows)?;
        self.file.sync_data()?;
        let written = new_keys.len();
        self.keys.extend(new_keys);
        Ok(written)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let client = sfstream_tokio::password_client(
        env("SF_CLIENT_ID")?,
        env("SF_CLIENT_SECRET")?,
        env("SF_USERNAME")?,
        env("SF_PASSWORD")?,
        env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    .store(FileStore::open("replay-ids.json")?)
    // Nothing is stored until `commit`: a replay id is stored once its event is in the database.
    .commit_policy(CommitPolicy::Manual)
    .replay_fallback(Some(ReplayFallback::All))
    .build()?;
    let mut database = Database::open("orders.jsonl")?;
    client.subscribe(&channel).await?;
    client.open().await?;
    eprintln!("writing {channel} into orders.jsonl; Ctrl-C to stop");

    loop {
        let batch = tokio::select! {
            batch = client.receive_batch(500) => batch,
            _ = tokio::signal::ctrl_c() => break,
        };
        let batch = match batch {
            Ok(batch) => batch,
            // The connection has been down for the connection timeout; the client keeps trying.
            Err(e) if e.is_connection_lost() => {
                eprintln!("{e}");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        // Blocking file I/O: fine for an example; a real service would use its database's
        // async driver (or `spawn_blocking`).
        let written = database.insert(&batch)?;
        eprintln!("{} events, {written} new", batch.len());
        // Written and synced: now the replay ids may be stored.
        client.commit(&batch)?;
    }
    // Sends /meta/disconnect and makes sure every committed replay id is in the store.
    client.close().await?;
    Ok(())
}
