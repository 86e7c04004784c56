//! `modelgate serve`: the HTTP server. The library loads the registry at a committed revision
//! and owns the API ([`modelgate::serve`]); this file starts the tokio runtime, binds, watches
//! the ref and shuts down gracefully on SIGTERM or ctrl-c (requests in flight are drained).

use super::{Ctx, EXIT_OK};
use crate::cli::{OutputFormat, ServeArgs};
use anyhow::{Context, Result, bail};
use modelgate::registry::types::ModelName;
use modelgate::serve::http::{App, Config};
use modelgate::serve::{LoadOptions, Selection};
use std::sync::Arc;
use std::time::Duration;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ServeArgs) -> Result<u8> {
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        bail!(
            "--threshold {} is out of range: expected a number in (0, 1)",
            args.threshold
        );
    }
    for (name, v) in [
        ("--poll-interval", args.poll_interval),
        ("--timeout", args.timeout),
    ] {
        // Beyond what a Duration holds (1e300 s), converting it would panic.
        if !(v.is_finite() && v > 0.0) || std::time::Duration::try_from_secs_f64(v).is_err() {
            bail!("{name} {v} is out of range: expected a positive number of seconds");
        }
    }
    if args.max_rows == 0 || args.max_body_bytes == 0 || args.concurrency == 0 {
        bail!("--max-rows, --max-body-bytes and --concurrency must be at least 1");
    }
    let token = match &args.token_file {
        Some(f) => {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("reading the token file {}", f.display()))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                bail!("the token file {} is empty", f.display());
            }
            Some(t)
        }
        None => None,
    };
    let models = if args.models.is_empty() {
        Selection::All
    } else {
        Selection::Only(
            args.models
                .iter()
                .map(|m| ModelName::new(m.trim()))
                .collect::<Result<_, _>>()?,
        )
    };
    let cores = modelgate::scoring::default_pool_size();
    if args.live_window == 0 {
        bail!("--live-window must be at least 1");
    }
    let root = ctx.registry_root()?;
    let opts = LoadOptions {
        repo: root.clone(),
        root,
        log_dir: args.log_dir.clone(),
        live_window: args.live_window,
        models,
        pool_size: args.sessions.unwrap_or(cores),
        threshold: args.threshold,
    };
    let rev = args.watch.clone().unwrap_or_else(|| args.rev.clone());
    let served = modelgate::serve::load(&rev, &opts, None)?;
    if served.models.is_empty() {
        bail!(
            "no model to serve at {rev}: {}",
            if served.failed.is_empty() {
                "no model has a champion".to_string()
            } else {
                served
                    .failed
                    .iter()
                    .map(|(m, e)| format!("{m}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        );
    }
    for (m, e) in &served.failed {
        eprintln!("modelgate: warning: {m} is not served: {e}");
    }
    let config = Config {
        max_body_bytes: args.max_body_bytes,
        max_rows: args.max_rows,
        timeout: Duration::from_secs_f64(args.timeout),
        concurrency: args.concurrency,
        token,
    };
    let summary = format!(
        "{} ({}): {}",
        rev,
        &served.commit[..12],
        served
            .models
            .iter()
            .map(|(n, m)| format!(
                "{n} ({})",
                m.aliases
                    .iter()
                    .map(|(a, v)| format!("{a} v{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let started = serde_json::json!({
        "revision": served.commit,
        "rev": rev,
        "models": served.models.iter().map(|(n, m)| (n.clone(), m.aliases.clone())).collect::<std::collections::BTreeMap<_, _>>(),
        "failed": served.failed,
    });
    let app = App::new(served, config)?;
    let app_for_logs = app.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.unwrap_or(cores).max(1))
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        // The first line of stdout says where (a test or a supervisor reads it).
        match args.format {
            OutputFormat::Json => {
                let mut doc = started;
                doc["listening"] = serde_json::json!(format!("http://{addr}"));
                println!("{doc}");
            }
            OutputFormat::Text => {
                println!("modelgate serve: listening on http://{addr} serving {summary}")
            }
        }
        use std::io::Write;
        std::io::stdout().flush()?;
        let wake = Arc::new(tokio::sync::Notify::new());
        if let Some(r) = &args.watch {
            tokio::spawn(modelgate::serve::http::watch(
                app.clone(),
                opts.clone(),
                r.clone(),
                Duration::from_secs_f64(args.poll_interval),
                wake.clone(),
            ));
            #[cfg(unix)]
            {
                let wake = wake.clone();
                let mut hup =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        wake.notify_one();
                    }
                });
            }
        }
        // Answers go out at once, not held back by Nagle's algorithm for more bytes.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                log::debug!("serve: TCP_NODELAY on an accepted connection: {e}");
            }
        });
        let service = modelgate::serve::http::router(app);
        axum::serve(listener, axum::ServiceExt::into_make_service(service))
            .with_graceful_shutdown(shutdown())
            .await
            .context("serving")?;
        // Every accepted prediction reaches its log before the process ends.
        for (model, r) in app_for_logs.flush_logs() {
            if let Err(e) = r {
                eprintln!("modelgate: warning: flushing the prediction log of {model}: {e:#}");
            }
        }
        eprintln!("modelgate serve: stopped (requests in flight were answered, logs flushed)");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(EXIT_OK)
}

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
