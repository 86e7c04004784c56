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
    let workers = args.workers.unwrap_or(cores).max(1);
    // Each worker thread serves its own connections on its own single-threaded runtime, from its
    // own socket on the one address (SO_REUSEPORT: the kernel spreads the connections), so no
    // request wakes another thread; the control runtime on this thread handles the signals and
    // the watcher of --watch.
    let control = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listeners = control.block_on(listen(&args.listen, workers))?;
    let addr = listeners[0].local_addr()?;
    // One router for all threads: its clones share the limits (the concurrency limit counts the
    // requests of the whole process).
    let router = modelgate::serve::http::router(app.clone());
    let mut threads = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let router = router.clone();
        let mut stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name(format!("serve-{i}"))
            .spawn(move || -> Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting the tokio runtime")?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    // Answers go out at once, not held back by Nagle's algorithm for more bytes.
                    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                        if let Err(e) = tcp.set_nodelay(true) {
                            log::debug!("serve: TCP_NODELAY on an accepted connection: {e}");
                        }
                    });
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        })
                        .await
                        .context("serving")
                })
            })
            .context("starting a server thread")?;
        threads.push(thread);
    }
    control.block_on(async move {
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
        shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    let _ = stop.send(true);
    for t in threads {
        match t.join() {
            Ok(r) => r?,
            Err(_) => bail!("a server thread panicked"),
        }
    }
    // Every accepted prediction reaches its log before the process ends.
    for (model, r) in app_for_logs.flush_logs() {
        if let Err(e) = r {
            eprintln!("modelgate: warning: flushing the prediction log of {model}: {e:#}");
        }
    }
    eprintln!("modelgate serve: stopped (requests in flight were answered, logs flushed)");
    Ok(EXIT_OK)
}

/// `n` listening sockets on one address (the first binds it, port 0 picks a free port), each
/// with SO_REUSEPORT, so the kernel spreads new connections across the worker threads.
async fn listen(addr: &str, n: usize) -> Result<Vec<std::net::TcpListener>> {
    let mut at = tokio::net::lookup_host(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?
        .next()
        .with_context(|| format!("listening on {addr}: no such address"))?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = if at.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .with_context(|| format!("listening on {addr}"))?;
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket
            .bind(at)
            .with_context(|| format!("listening on {addr}"))?;
        let listener = socket
            .listen(1024)
            .with_context(|| format!("listening on {addr}"))?;
        at = listener.local_addr()?;
        out.push(listener.into_std()?);
    }
    Ok(out)
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
