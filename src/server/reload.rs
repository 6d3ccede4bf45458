//! SIGHUP and the console's `reload` (issue 21): read the config file again and apply what can
//! change in a running server (limits, timeouts, log level), logging what changed and what
//! waits for a restart (addresses, ports, files). A file that does not load changes nothing.
//! Then the TLS certificate and key are read again (issue 18), with or without a config file.

use super::{Limits, Server};
use crate::chat::Settings;
use crate::console::Reply;

impl Server {
    /// The config file, then the TLS certificate and key: one line each in the reply.
    pub(super) fn reload(&mut self) -> Reply {
        let mut reply = self.reload_config();
        match self.reload_certificates() {
            None => {}
            Some(Ok(line)) => reply.text.push_str(&format!("{line}\n")),
            Some(Err(e)) => {
                reply.ok = false;
                reply
                    .text
                    .push_str(&format!("{e}; keeping the certificate in use\n"));
            }
        }
        reply
    }

    fn reload_config(&mut self) -> Reply {
        let Some(current) = self.config.as_ref() else {
            return Reply::err("no configuration to reload\n");
        };
        let Some(file) = current.config_file.clone() else {
            log::info!("started without --config: nothing to reload");
            return Reply::err("started without --config: nothing to reload\n");
        };
        let reloaded = match current.reload() {
            Ok(r) => r,
            Err(e) => {
                log::error!("reload of {} failed, nothing changed: {e}", file.display());
                return Reply::err(format!("reload failed, nothing changed: {e}\n"));
            }
        };
        let config = reloaded.config;
        self.limits = Limits::from(&config);
        self.chat.set_settings(Settings::from(&config));
        crate::logging::set_level(config.log_level);
        // TLS certificates (the transport layer, issue 18) are read again by `reload` from
        // `config`, with their flags marked live in `config::FLAGS`, so they are listed as
        // applied.
        self.config = Some(config);
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        };
        let text = format!(
            "reloaded {}: changed {}; needs a restart: {}\n",
            file.display(),
            list(&reloaded.applied),
            list(&reloaded.restart)
        );
        log::info!("{}", text.trim_end());
        Reply::ok(text)
    }
}
