//! The command line and config file into a `Config`: every flag, the positionals, the
//! tools, reloads.

use super::cli::*;
use super::*;
use std::path::Path;

fn parse(args: &str) -> Result<Cli, String> {
    let v: Vec<String> = args.split_whitespace().map(String::from).collect();
    Cli::parse(&v)
}

fn run(args: &str) -> Config {
    match parse(args) {
        Ok(Cli::Run(c)) => c,
        other => panic!("expected Run for {args:?}, got {other:?}"),
    }
}

#[test]
fn assignment_form() {
    let c = run("4000 60 120");
    assert_eq!(c.port, 4000);
    assert_eq!(c.block_duration, Duration::from_secs(60));
    assert_eq!(c.timeout, Duration::from_secs(120));
}

#[test]
fn defaults_when_only_port() {
    let c = run("5000");
    assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]), "loopback by default");
    assert_eq!(c.credentials, PathBuf::from("credentials.txt"));
    assert!(c.create_credentials);
    assert_eq!(c.block_duration, Duration::from_secs(60));
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!(c.max_line, 4096);
    assert!(c.register);
    assert_eq!(c.fsync, FsyncPolicy::Always);
}

#[test]
fn options_are_read() {
    let c = run(
        "--bind 127.0.0.1 --max-line 100 --no-register --duplicate-login replace --fsync never 0",
    );
    assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(c.max_line, 100);
    assert!(!c.register);
    assert!(c.presence);
    assert!(!run("--no-presence 1").presence);
    assert_eq!(c.duplicate_login, DuplicateLogin::Replace);
    assert_eq!(c.fsync, FsyncPolicy::Never);
    let c = run("--compact-bytes 4096 --max-offline 3 --history 7 --repair 0");
    assert_eq!(run("--max-rooms 5 0").max_rooms, 5);
    assert_eq!((c.compact_bytes, c.max_offline, c.history), (4096, 3, 7));
    assert!(c.repair);
    assert_eq!(run("0").compact_bytes, 8 << 20);
    assert_eq!(run("--json-port 33000 0").json_port, Some(33000));
    assert_eq!(run("0").json_port, None);
}

/// The admin socket sits in the data directory unless placed or turned off; `ctl` finds it
/// the same way (issue 21).
#[test]
fn admin_socket_and_ctl() {
    assert_eq!(
        run("0").admin_socket,
        Some(PathBuf::from("chatserver-data/admin.sock"))
    );
    assert_eq!(
        run("--data-dir /srv/c 0").admin_socket,
        Some(PathBuf::from("/srv/c/admin.sock"))
    );
    assert_eq!(
        run("--admin-socket /run/c.sock 0").admin_socket,
        Some(PathBuf::from("/run/c.sock"))
    );
    assert_eq!(run("--no-admin-socket 0").admin_socket, None);
    match parse("ctl --data-dir /srv/c kick bob") {
        Ok(Cli::Ctl { socket, command }) => {
            assert_eq!(socket, PathBuf::from("/srv/c/admin.sock"));
            assert_eq!(command, "kick bob");
        }
        other => panic!("{other:?}"),
    }
    match parse("ctl --socket s announce --not-an-option here") {
        Ok(Cli::Ctl { socket, command }) => {
            assert_eq!(socket, PathBuf::from("s"));
            assert_eq!(command, "announce --not-an-option here");
        }
        other => panic!("{other:?}"),
    }
    assert!(parse("ctl").is_err());
    match parse("user --data-dir d add ann") {
        Ok(Cli::User { config, action }) => {
            assert_eq!(action, UserAction::Add("ann".into()));
            assert_eq!(config.credentials, PathBuf::from("credentials.txt"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse("user list"),
        Ok(Cli::User {
            action: UserAction::List,
            ..
        })
    ));
    for bad in [
        "user",
        "user add",
        "user add a b",
        "user frob x",
        "user list x",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    assert!(parse("ctl --no-admin-socket list").is_err());
}

/// The file's settings, the command line over them; a reload sorts what changed into live
/// and restart (issue 21).
#[test]
fn config_file_and_reload() {
    let dir = std::env::temp_dir().join(format!("chatserver-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("chat.toml");
    let path = file.to_str().expect("utf-8");
    std::fs::write(
        &file,
        "port = 4000\nmax-offline = 5\nbind = \"0.0.0.0\"\nfsync = \"never\"\n",
    )
    .expect("write");
    let c = run(&format!("--config {path} --max-rooms 7 --fsync always"));
    assert_eq!((c.port, c.max_offline, c.max_rooms), (4000, 5, 7));
    assert_eq!(c.bind, IpAddr::from([0, 0, 0, 0]));
    assert_eq!(c.fsync, FsyncPolicy::Always, "the command line wins");
    assert_eq!(run(&format!("--config {path} 5000")).port, 5000);

    std::fs::write(
        &file,
        "port = 4001\nmax-offline = 9\nbind = \"127.0.0.1\"\nfsync = \"never\"\nmax-rooms = 1\n\
         log-level = \"debug\"\n",
    )
    .expect("write");
    let r = c.reload().expect("reloads");
    assert_eq!(
        r.applied,
        ["log-level (default -> \"debug\")", "max-offline (5 -> 9)"]
    );
    assert_eq!(
        r.restart,
        ["bind (\"0.0.0.0\" -> \"127.0.0.1\")", "port (4000 -> 4001)"]
    );
    assert_eq!(r.config.max_offline, 9);
    assert_eq!(r.config.max_rooms, 7, "the command line still wins");
    assert_eq!(r.config.log_level, Some(log::LevelFilter::Debug));
    assert_eq!(
        (r.config.port, r.config.bind),
        (4000, IpAddr::from([0, 0, 0, 0]))
    );
    // Asked again, a restart-only change is still pending; nothing live is.
    let again = r.config.reload().expect("reloads");
    assert!(again.applied.is_empty());
    assert_eq!(again.restart.len(), 2);

    std::fs::write(&file, "port = 4000\nmax-offline = \"many\"\n").expect("write");
    let e = c.reload().expect_err("a bad file changes nothing");
    assert!(e.contains("chat.toml:2: max-offline"), "{e}");
    let e = parse(&format!("--config {path}/missing 0")).expect_err("missing file");
    assert!(e.contains("missing"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The sample config file the systemd unit installs reads as it says.
#[test]
fn the_shipped_config_file_loads() {
    let mut v = Values::default();
    let text = include_str!("../../dist/chatserver.toml");
    toml::parse(Path::new("dist/chatserver.toml"), text, &mut v).expect("parses");
    let c = Config::from_values(&v).expect("valid");
    assert_eq!((c.port, c.json_port), (4000, Some(33000)));
    assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(
        c.admin_socket,
        Some(PathBuf::from("/var/lib/chatserver/admin.sock"))
    );
    assert_eq!(c.log_level, Some(log::LevelFilter::Info));
}

/// A host name is resolved once; a given credentials file must exist (never created).
#[test]
fn bind_host_names_and_credentials_paths() {
    assert_eq!(run("--bind localhost 0").bind.to_string(), "127.0.0.1");
    assert_eq!(run("--bind 0.0.0.0 0").bind, IpAddr::from([0, 0, 0, 0]));
    assert_eq!(run("--bind ::1 0").bind.to_string(), "::1");
    let e = parse("--bind no-such-host.invalid 0").expect_err("rejected");
    assert!(
        e.starts_with("invalid --bind: \"no-such-host.invalid\""),
        "{e}"
    );
    let c = run("--data-dir /srv/chat 0");
    assert_eq!(c.credentials, PathBuf::from("credentials.txt"));
    let c = run("--credentials creds.txt 0");
    assert_eq!(c.credentials, PathBuf::from("creds.txt"));
    assert!(!c.create_credentials);
}

#[test]
fn irc_options() {
    let c = run("5000");
    assert_eq!(c.irc_port, None, "the IRC port is off by default");
    assert!(!c.irc_guests);
    assert_eq!(c.irc_server_name, "chatserver");
    let c =
        run("--irc-port 6667 --irc-guests --irc-server-name irc.example --operators yoda,,hans 0");
    assert_eq!(c.irc_port, Some(6667));
    assert!(c.irc_guests);
    assert_eq!(c.irc_server_name, "irc.example");
    assert_eq!(c.operators, ["yoda", "hans"]);
}

/// `--server-description` (issue 22, IRC `LINKS`/`WHOIS`): a flag and a config-file key, with
/// spaces; empty or control characters (a line break would end the IRC line) are refused.
#[test]
fn server_description_from_the_flag_and_the_file() {
    assert_eq!(run("5000").server_description, "chatserver");
    assert_eq!(
        run("--server-description solo 0").server_description,
        "solo"
    );
    let dir = std::env::temp_dir().join(format!("chatserver-desc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("chat.toml");
    let path = file.to_str().expect("utf-8");
    std::fs::write(&file, "port = 4000\nserver-description = \"test server\"\n").expect("write");
    assert_eq!(
        run(&format!("--config {path}")).server_description,
        "test server"
    );
    std::fs::write(&file, "port = 4000\nserver-description = \"\"\n").expect("write");
    let e = parse(&format!("--config {path}")).expect_err("empty");
    assert!(e.contains("server-description"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_errors() {
    for bad in [
        "",
        "notaport",
        "70000",
        "4000 x",
        "4000 1 0",
        "4000 1 2 3",
        "4000 18446744073709551615",
        "--max-line 18446744073709551615 4000",
        "--max-output 10 4000",
        "4000 1 9999999999",
        "--max-line abc 4000",
        "--duplicate-login maybe 4000",
        "--bogus 4000",
        "--json-port 70000 4000",
        "--json-port x 4000",
        "--irc-port 70000 4000",
        "--irc-server-name a:b 4000",
        "--irc-oper op:pw 4000",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} should be rejected");
    }
}

/// A negative number in a positional place is that argument's bad value, wherever the
/// options around it are (issue 21).
#[test]
fn negative_positionals_are_named() {
    let e = parse("5001 -5").expect_err("rejected");
    assert!(e.starts_with("invalid BLOCK_DURATION: \"-5\""), "{e}");
    let e = parse("--max-line 100 5001 60 -7").expect_err("rejected");
    assert!(e.starts_with("invalid TIMEOUT: \"-7\""), "{e}");
    let e = parse("-3 --fsync never").expect_err("rejected");
    assert!(e.starts_with("invalid PORT: \"-3\""), "{e}");
    let e = parse("--bind 127.0.0.1 5001 -5").expect_err("rejected");
    assert!(e.starts_with("invalid BLOCK_DURATION"), "{e}");
    assert!(
        parse("-5x 4000").is_err(),
        "not a number: an unknown option"
    );
}

/// `--login-timeout 0` closed every connection (an HTTP request, `/healthz` too) as it
/// arrived; it is refused at start and a reload to it changes nothing.
#[test]
fn a_zero_login_timeout_is_refused() {
    let e = parse("--login-timeout 0 4000").expect_err("must be rejected");
    assert!(
        e.contains("--login-timeout must be at least 1 second"),
        "{e}"
    );
    assert_eq!(
        run("--login-timeout 1 4000").login_timeout,
        Duration::from_secs(1)
    );
    let dir = std::env::temp_dir().join(format!("chatserver-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("chat.toml");
    let path = file.to_str().expect("utf-8");
    std::fs::write(&file, "login-timeout = 30\n").expect("write");
    let c = run(&format!("--config {path} 4000"));
    std::fs::write(&file, "login-timeout = 0\n").expect("write");
    let e = c.reload().expect_err("a zero timeout changes nothing");
    assert!(e.contains("login-timeout must be at least 1 second"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A line longer than the output cap could never be answered (issue 8).
#[test]
fn max_line_above_max_output_is_rejected() {
    let e = parse("--max-line 4096 --max-output 2048 0").expect_err("must be rejected");
    assert!(
        e.contains("--max-line (4096) must not exceed --max-output (2048)"),
        "{e}"
    );
    let c = run("--max-line 2048 --max-output 2048 0");
    assert_eq!((c.max_line, c.max_output), (2048, 2048));
    let c = run("--max-output 2048 0");
    assert_eq!((c.max_line, c.max_output), (2048, 2048));
}

#[test]
fn one_shot_modes() {
    assert!(matches!(parse("-h"), Ok(Cli::Help)));
    assert!(matches!(parse("--version"), Ok(Cli::Version)));
    match parse("--hash-credentials creds.txt") {
        Ok(Cli::HashCredentials { path, cost }) => {
            assert_eq!(
                (path, cost),
                (PathBuf::from("creds.txt"), DEFAULT_HASH_COST)
            )
        }
        other => panic!("{other:?}"),
    }
}

/// Reliability limits (issue 8): defaults, flags, and when loopback is limited too.
#[test]
fn reliability_limits() {
    let c = run("0");
    assert_eq!(
        (
            c.max_accounts,
            c.register_rate,
            c.max_per_ip,
            c.limit_loopback
        ),
        (100_000, 10, 64, false)
    );
    assert_eq!(
        (c.max_offline_bytes, c.max_output_total),
        (64 << 20, 256 << 20)
    );
    assert_eq!(c.penalty, Duration::from_micros(500));
    let c = run("--max-accounts 5 --register-rate 2 --max-offline-bytes 9 --max-per-ip 3 --max-output-total 2000000 --penalty-us 0 0");
    assert_eq!(
        (
            c.max_accounts,
            c.register_rate,
            c.max_per_ip,
            c.limit_loopback
        ),
        (5, 2, 3, true)
    );
    assert_eq!((c.max_offline_bytes, c.max_output_total), (9, 2_000_000));
    assert_eq!(c.penalty, Duration::ZERO);
    assert!(parse("--max-per-ip 0 0").is_err());
    assert!(
        parse("--max-output-total 1024 0").is_err(),
        "below --max-output"
    );
}

/// `--cluster` URLs (issue 23): `redis://` and `rediss://` with a database, and `--cluster-ca`
/// only with TLS to Redis.
#[test]
fn cluster_urls_and_the_ca_file() {
    let c = run("--cluster redis://10.0.0.5:6380/2 4000");
    let o = c.cluster.expect("cluster options");
    assert_eq!(
        (o.host.as_str(), o.port, o.db, o.tls),
        ("10.0.0.5", 6380, Some(2), false)
    );
    let c = run("--cluster rediss://redis.example:6379 --cluster-ca /etc/ca.pem 4000");
    let o = c.cluster.expect("cluster options");
    assert!(o.tls);
    assert_eq!(o.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
    // Live traffic on a Redis of its own (issue 23: no fsync on a DM's path).
    let c = run("--cluster redis://h:1 --cluster-live rediss://live.example:6390 4000");
    let o = c.cluster.expect("cluster options");
    let live = crate::config::LiveRedis {
        host: "live.example".into(),
        port: 6390,
        tls: true,
    };
    assert_eq!((o.port, o.live), (1, Some(live)));
    let c = run("--cluster rediss://[::1]:6379 4000");
    let o = c.cluster.expect("cluster options");
    assert_eq!((o.host.as_str(), o.ca_file), ("::1", None));
    for (args, why) in [
        (
            "--cluster redis://h:1 --cluster-ca ca.pem 4000",
            "needs a rediss://",
        ),
        ("--cluster-ca ca.pem 4000", "needs --cluster"),
        ("--cluster http://h:1 4000", "invalid --cluster"),
        ("--cluster rediss://h 4000", "invalid --cluster"),
        ("--cluster-live redis://h:1 4000", "needs --cluster"),
        (
            "--cluster redis://h:1 --cluster-live redis://l:2/1 4000",
            "takes no /DB",
        ),
        (
            "--cluster redis://h:1 --cluster-live l:2 4000",
            "invalid --cluster-live",
        ),
    ] {
        let e = parse(args).unwrap_err();
        assert!(e.contains(why), "{args}: {e}");
    }
}
