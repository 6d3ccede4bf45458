//! Operator commands that change durable state, shared by the running server (console and
//! admin socket) and the tools that work on a stopped one (`chatserver user`, issue 21): the
//! same core rules and the same store code either way.

mod password;

use crate::chat::{valid_password, AccountOp, Chat, Settings};
use crate::config::{Config, UserAction};
use crate::console::{Reply, UserCommand};
use crate::credentials::Secret;
use crate::store::{self, Store, StoreError};
use crate::time::Now;
use std::io;
use std::path::Path;
use std::time::Duration;

/// Run a `user …` command: validate in the core, commit the records, then apply them. The
/// caller has committed anything pending before, so the journal keeps the order of changes.
pub fn account_command(chat: &mut Chat, store: &mut Store, cmd: UserCommand, now: Now) -> Reply {
    let (op, records, done) = match check_account_command(chat, cmd) {
        Ok(checked) => checked,
        Err(reply) => return reply,
    };
    if let Err(e) = store.commit(&records) {
        log::error!("storage commit failed, account change refused: {e}");
        return Reply::err(format!("storage unavailable, nothing changed: {e}\n"));
    }
    chat.apply_account_op(op, now);
    log::info!("operator: {done}");
    Reply::ok(done)
}

/// A `user …` command checked by the core: the change, its records and the reply once it
/// is made (`added eve\n`); or the reply at once (`list`, or why it cannot be made).
pub fn check_account_command(
    chat: &mut Chat,
    cmd: UserCommand,
) -> Result<(AccountOp, Vec<crate::record::Record>, String), Reply> {
    let (op, done) = match cmd {
        UserCommand::List => {
            let mut text = chat.account_names().join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            return Err(Reply::ok(text));
        }
        UserCommand::Add { user, password } => match chat.operator_secret(&password) {
            Ok(secret) => (AccountOp::Add { user, secret }, "added"),
            Err(e) => return Err(Reply::err(format!("{e}\n"))),
        },
        UserCommand::Passwd { user, password } => match chat.operator_secret(&password) {
            Ok(secret) => (AccountOp::Passwd { user, secret }, "new password for"),
            Err(e) => return Err(Reply::err(format!("{e}\n"))),
        },
        UserCommand::Del { user } => (AccountOp::Delete { user }, "deleted"),
    };
    let (op, records) = chat
        .check_account_op(op)
        .map_err(|e| Reply::err(format!("{e}\n")))?;
    let user = match &op {
        AccountOp::Add { user, .. }
        | AccountOp::Passwd { user, .. }
        | AccountOp::Delete { user } => user.clone(),
    };
    Ok((op, records, format!("{done} {user}\n")))
}

/// The core and store of a stopped server, as its start-up builds them (the store's lock
/// keeps a server from starting meanwhile).
pub fn open_offline(config: &Config) -> Result<(Chat, Store), Box<dyn std::error::Error>> {
    let (store, credentials, records) = Store::open(config)?;
    let seed = store::os_random::<32>().map_err(|e| format!("/dev/urandom: {e}"))?;
    let mut chat = Chat::new(Settings::from(config), credentials, Now::read(), seed);
    for r in records {
        chat.replay(r);
    }
    Ok((chat, store))
}

/// `chatserver user …`: ask for the password where one is needed and hash it here (the socket
/// never carries it in the clear, and the server spends no time on it), then send the command
/// to the running server's admin socket, or, with no server answering there, apply it to the
/// stopped server's files.
pub fn user(config: &Config, action: UserAction) -> Result<Reply, String> {
    let secret = |user: &str| -> Result<String, String> {
        let password = password::read_new_password().map_err(|e| format!("password: {e}"))?;
        if !valid_password(&password) {
            return Err(format!(
                "{user}: invalid password (1-32 printable characters, no spaces)"
            ));
        }
        let salt = store::os_random().map_err(|e| format!("/dev/urandom: {e}"))?;
        let cost = config.hash_cost;
        Ok(Secret::for_new_account(&password, config.plain_credentials, salt, cost).to_string())
    };
    let cmd = match action {
        UserAction::List => UserCommand::List,
        UserAction::Add(user) => UserCommand::Add {
            password: secret(&user)?,
            user,
        },
        UserAction::Passwd(user) => UserCommand::Passwd {
            password: secret(&user)?,
            user,
        },
        UserAction::Del(user) => UserCommand::Del { user },
    };
    if let Some(reply) = ask_server(config, &cmd.line(), Some(Duration::from_secs(60)))? {
        return Ok(reply);
    }
    let (mut chat, mut store) = stopped(config)?;
    Ok(account_command(&mut chat, &mut store, cmd, Now::read()))
}

/// Send `line` to the running server's admin socket; `None` when no server answers there.
fn ask_server(
    config: &Config,
    line: &str,
    wait: Option<Duration>,
) -> Result<Option<Reply>, String> {
    let Some(socket) = &config.admin_socket else {
        return Ok(None);
    };
    match crate::admin::request(socket, line, wait) {
        Ok(reply) => Ok(Some(reply)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("{}: {e}", socket.display())),
    }
}

/// The default `./credentials.txt` is missing here while the data directory holds a server's
/// state: the tool was run outside the server's working directory (`sudo chatserver backup …`
/// from a home directory). Creating an empty file there, as a first start does, would add
/// accounts to the wrong file or write a backup without any, so refuse and say what to give.
fn credentials_elsewhere(config: &Config) -> Result<(), String> {
    if config.create_credentials && !config.credentials.exists() && config.data_dir.is_dir() {
        return Err(format!(
            "{}: not found in this directory, but {} holds a server's state: run this in the \
             server's working directory (where its credentials.txt is) or give --credentials FILE",
            config.credentials.display(),
            config.data_dir.display()
        ));
    }
    Ok(())
}

/// The stopped server's core and store; a clear error if a server holds them after all.
fn stopped(config: &Config) -> Result<(Chat, Store), String> {
    if config.cluster.is_some() {
        // Issue 23: the state is in Redis; this node's files are not it.
        return Err(
            "no node answers on the admin socket: in cluster mode account changes \
                    and backups go through a running node (the chat world is in Redis)"
                .into(),
        );
    }
    credentials_elsewhere(config)?;
    open_offline(config).map_err(|e| match e.downcast_ref() {
        Some(StoreError::Locked(dir)) => format!(
            "{} is in use by a running server, but its admin socket does not answer \
             (give the server's --admin-socket)",
            dir.display()
        ),
        _ => e.to_string(),
    })
}

/// `chatserver backup DIR`: by the running server (in bounded steps, while it serves), or
/// from the stopped server's files.
pub fn backup(config: &Config, dir: &Path) -> Result<Reply, String> {
    let dir = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let line = format!("backup {}", dir.display());
    if let Some(reply) = ask_server(config, &line, None)? {
        return Ok(reply);
    }
    let (chat, store) = stopped(config)?;
    let mut backup = store
        .begin_backup(&dir, chat.freeze())
        .map_err(|e| format!("backup: {e}"))?;
    loop {
        match backup.step(1 << 20) {
            Ok(false) => {}
            Ok(true) => break,
            Err(e) => {
                backup.abandon();
                return Err(format!("backup failed: {e}"));
            }
        }
    }
    Ok(Reply::ok(format!(
        "backup written to {} ({} bytes)\n",
        dir.display(),
        backup.written
    )))
}

/// `chatserver restore DIR`: only with the server stopped.
pub fn restore(config: &Config, dir: &Path) -> Result<Reply, String> {
    if ask_server(config, "stats", Some(Duration::from_secs(5)))?.is_some() {
        return Err("a server is running on this data directory: stop it first".into());
    }
    credentials_elsewhere(config)?;
    let now_s = Now::read().unix_ms() / 1000;
    let aside = store::restore(config, dir, now_s).map_err(|e| e.to_string())?;
    Ok(Reply::ok(format!(
        "restored {} into {}; the files it replaced are in {}\n",
        dir.display(),
        config.data_dir.display(),
        aside.display()
    )))
}
