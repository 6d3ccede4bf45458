//! The command line: what to run (the server, or a tool: `ctl`, `user`, `backup`, `restore`,
//! `--hash-credentials`), and the flags and positionals as named values for [`Config`].

use super::flags;
use super::values::{Origin, Value, Values, POSITIONAL};
use super::{Config, DEFAULT_HASH_COST};
use std::path::PathBuf;

/// What the command line asks for: run the server, or one of the one-shot actions.
#[derive(Debug)]
// Built once per process: the size difference costs nothing (the IRC settings tipped it).
#[allow(clippy::large_enum_variant)]
pub enum Cli {
    Run(Config),
    /// Rewrite a plaintext credentials file to hashed entries, then exit.
    HashCredentials {
        path: PathBuf,
        cost: u32,
    },
    /// `chatserver ctl CMD…`: send one console command to a running server's admin socket.
    Ctl {
        socket: PathBuf,
        command: String,
    },
    /// `chatserver user …`: an account command, through the admin socket of a running server
    /// or on the stopped server's files.
    User {
        config: Config,
        action: UserAction,
    },
    /// `chatserver backup DIR`: a backup into the new directory DIR, through the running
    /// server's admin socket or from the stopped server's files.
    Backup {
        config: Config,
        dir: PathBuf,
    },
    /// `chatserver restore DIR`: replace the stopped server's state with the backup in DIR.
    Restore {
        config: Config,
        dir: PathBuf,
    },
    Help,
    Version,
}

/// What `chatserver user` was asked (the password, where needed, is read separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    Add(String),
    Passwd(String),
    Del(String),
    List,
}

/// The `--help` text.
pub fn usage() -> String {
    flags::usage()
}

/// The arguments after the program name with the positional ones picked out: getopts reads a
/// negative number such as `chatserver 5001 -5` as an unknown option `-5`, but the operator
/// meant a BLOCK_DURATION, and the error must name that value.
struct Args {
    /// Everything getopts should see.
    options: Vec<String>,
    /// Negative numbers in positional places, with their index among the positionals.
    negatives: Vec<(usize, String)>,
}

fn split_negatives(args: &[String]) -> Args {
    let mut out = Args {
        options: Vec::new(),
        negatives: Vec::new(),
    };
    let mut positionals = 0;
    let mut value_next = false;
    let mut only_free = false;
    for a in args {
        let looks_negative = a.len() > 1
            && a.starts_with('-')
            && a[1..].bytes().next().is_some_and(|b| b.is_ascii_digit());
        if value_next {
            value_next = false;
        } else if only_free || !a.starts_with('-') || a == "-" {
            positionals += 1;
        } else if a == "--" {
            only_free = true;
        } else if looks_negative {
            out.negatives.push((positionals, a.clone()));
            positionals += 1;
            continue;
        } else if let Some(name) = a.strip_prefix("--") {
            value_next = !name.contains('=')
                && flags::find(name).is_some_and(|f| {
                    matches!(f.arg, flags::Arg::Required(_) | flags::Arg::Many(_))
                });
        }
        out.options.push(a.clone());
    }
    out
}

/// The settings flags present in `m`, as named values.
fn flag_values(m: &getopts::Matches) -> Values {
    let mut values = Values::default();
    for f in flags::FLAGS
        .iter()
        .filter(|f| f.used == flags::Use::Setting)
    {
        let value = match f.arg {
            flags::Arg::None if m.opt_present(f.name) => Value::Bool(true),
            flags::Arg::Many(_) if m.opt_present(f.name) => {
                Value::Text(m.opt_strs(f.name).join(","))
            }
            _ => match m.opt_str(f.name) {
                Some(v) => Value::Text(v),
                None => continue,
            },
        };
        values.set(f.name, value, Origin::CommandLine);
    }
    values
}

/// A tool's arguments (`chatserver ctl|user … [OPTIONS] WORDS…`): the options before the words
/// are the server's (`--data-dir`, `--admin-socket`, `--credentials`, …, so a tool finds what
/// the server uses) plus `--socket PATH` for `--admin-socket`; the words follow.
fn parse_tool(tool: &str, args: &[String]) -> Result<(Config, Vec<String>), String> {
    let mut o = flags::options();
    o.optopt(
        "",
        "socket",
        "the admin socket (the same as --admin-socket)",
        "PATH",
    );
    o.parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let m = o.parse(args).map_err(|e| format!("{tool}: {e}"))?;
    let mut values = flag_values(&m);
    if let Some(socket) = m.opt_str("socket") {
        values.set("admin-socket", Value::Text(socket), Origin::CommandLine);
    }
    let config = Config::load(m.opt_str("config").map(PathBuf::from), values, false)?;
    Ok((config, m.free))
}

/// `chatserver ctl CMD…`: the words are the console line.
fn parse_ctl(args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool("ctl", args)?;
    if words.is_empty() {
        return Err("ctl: missing command (`chatserver ctl help` lists them)".into());
    }
    let socket = config
        .admin_socket
        .ok_or("ctl: the admin socket is off (--no-admin-socket)")?;
    Ok(Cli::Ctl {
        socket,
        command: words.join(" "),
    })
}

/// `chatserver user add|passwd|del NAME`, `user list`.
fn parse_user(args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool("user", args)?;
    let owned = |s: &String| s.clone();
    let action = match words.as_slice() {
        [w] if w == "list" => UserAction::List,
        [w, name] if w == "add" => UserAction::Add(owned(name)),
        [w, name] if w == "passwd" => UserAction::Passwd(owned(name)),
        [w, name] if w == "del" => UserAction::Del(owned(name)),
        _ => return Err("user: expected add NAME, passwd NAME, del NAME or list".into()),
    };
    Ok(Cli::User { config, action })
}

/// `chatserver backup|restore [OPTIONS] DIR`.
fn parse_dir_tool(tool: &str, args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool(tool, args)?;
    let [dir] = words.as_slice() else {
        return Err(format!("{tool}: expected one directory"));
    };
    let dir = PathBuf::from(dir);
    Ok(match tool {
        "backup" => Cli::Backup { config, dir },
        _ => Cli::Restore { config, dir },
    })
}

impl Cli {
    /// Parse the arguments after the program name. `Err` holds one line for stderr.
    pub fn parse(args: &[String]) -> Result<Cli, String> {
        match args.first().map(String::as_str) {
            Some("ctl") => return parse_ctl(&args[1..]),
            Some("user") => return parse_user(&args[1..]),
            Some(tool @ ("backup" | "restore")) => return parse_dir_tool(tool, &args[1..]),
            _ => {}
        }
        let split = split_negatives(args);
        let m = flags::options()
            .parse(&split.options)
            .map_err(|e| e.to_string())?;
        if m.opt_present("help") {
            return Ok(Cli::Help);
        }
        if m.opt_present("version") {
            return Ok(Cli::Version);
        }
        let mut free = m.free.clone();
        for (i, a) in split.negatives {
            free.insert(i.min(free.len()), a);
        }
        if m.opt_present("hash-credentials") {
            let file = m
                .opt_str("hash-credentials")
                .or_else(|| free.first().cloned())
                .unwrap_or_else(|| "credentials.txt".into());
            let cost = match m.opt_str("hash-cost") {
                Some(c) => c
                    .parse()
                    .ok()
                    .filter(|c| (1..=crate::credentials::MAX_ITERATIONS).contains(c))
                    .ok_or_else(|| format!("invalid --hash-cost: {c:?} (1 to 10000000)"))?,
                None => DEFAULT_HASH_COST,
            };
            return Ok(Cli::HashCredentials {
                path: PathBuf::from(file),
                cost,
            });
        }
        if let Some(first) = free.first() {
            if let Some(synopsis) = flags::tool_synopsis(first) {
                // `chatserver --config FILE user add ann`: a tool, not a PORT.
                return Err(format!("{first:?} goes first: {synopsis}"));
            }
        }
        let mut values = flag_values(&m);
        if free.len() > POSITIONAL.len() {
            return Err(format!("unexpected argument: {:?}", free[POSITIONAL.len()]));
        }
        for ((key, _), v) in POSITIONAL.iter().zip(free) {
            values.set(key, Value::Text(v), Origin::CommandLine);
        }
        Config::load(m.opt_str("config").map(PathBuf::from), values, true).map(Cli::Run)
    }
}
