//! What operators watch: counters, gauges and histograms of one instance, served at `/metrics`
//! in Prometheus' text format. Each is an atomic (an add per chunk or event, never a lock); the
//! figures other parts already keep (database pool, sign-in throttle) are read at scrape time.

use axum::body::{Body, HttpBody as _};
use axum::response::Response;
use futures_util::StreamExt;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::time::Duration;

/// The instance's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// tus PATCHes (and creations with a body) receiving bytes now.
    pub uploads_in_flight: IntGauge,
    /// Upload bytes received.
    pub upload_bytes: IntCounter,
    /// Seconds from an upload's last byte to its verdict (checks, store, publication).
    pub finish_seconds: Histogram,
    /// Verdicts of the checks: `clean`, `refused`, `blocked`, `error`.
    pub verdicts: IntCounterVec,
    /// Seconds a malware scan took.
    pub scan_seconds: Histogram,
    /// Downloads (`/files/…`, temporary URLs) by the credential that opened them.
    pub downloads: IntCounterVec,
    /// Bytes served, by the same.
    pub download_bytes: IntCounterVec,
    /// Open WebSockets by kind (`staff`, `visitor`, `consumer`).
    pub sockets: IntGaugeVec,
    /// Events sent to sockets.
    pub events_sent: IntCounter,
    /// Seconds from an event's publication to its sending on a socket.
    pub event_delay_seconds: HistogramVec,
    /// Store operations that failed (a missing object is not a failure), by operation.
    pub store_errors: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new().expect("metric names are valid and registered once")
    }
}

fn counter(r: &Registry, name: &str, help: &str) -> prometheus::Result<IntCounter> {
    let c = IntCounter::new(name, help)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn counters(r: &Registry, name: &str, help: &str, label: &str) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), &[label])?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> prometheus::Result<Histogram> {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))?;
    r.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> prometheus::Result<Metrics> {
        let r = Registry::new_custom(Some("attache".into()), None)?;
        let seconds = vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
        let uploads_in_flight = IntGauge::new("uploads_in_flight", "Upload requests receiving bytes now")?;
        r.register(Box::new(uploads_in_flight.clone()))?;
        let sockets = IntGaugeVec::new(Opts::new("sockets_open", "Open WebSockets by kind"), &["kind"])?;
        r.register(Box::new(sockets.clone()))?;
        let event_delay_seconds = HistogramVec::new(
            HistogramOpts::new("event_delay_seconds", "Seconds from an event's publication to a socket")
                .buckets(vec![0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
            &["kind"],
        )?;
        r.register(Box::new(event_delay_seconds.clone()))?;
        Ok(Metrics {
            uploads_in_flight,
            upload_bytes: counter(&r, "upload_bytes_received_total", "Upload bytes received")?,
            finish_seconds: histogram(
                &r,
                "upload_finish_seconds",
                "Seconds to check, store and publish a complete upload",
                seconds.clone(),
            )?,
            verdicts: counters(&r, "check_verdicts_total", "Verdicts of the file checks", "verdict")?,
            scan_seconds: histogram(&r, "scan_seconds", "Seconds a malware scan took", seconds)?,
            downloads: counters(&r, "downloads_total", "Files and previews served, by credential", "grant")?,
            download_bytes: counters(
                &r,
                "download_bytes_total",
                "Bytes of files and previews served, by credential",
                "grant",
            )?,
            sockets,
            events_sent: counter(&r, "events_sent_total", "Events sent to WebSockets")?,
            event_delay_seconds,
            store_errors: counters(&r, "store_errors_total", "Store operations that failed", "op")?,
            registry: r,
        })
    }

    /// Counts a response's body bytes as served to `grant` (per chunk, as they leave).
    pub fn served(&self, grant: &'static str, response: Response) -> Response {
        if !response.status().is_success() || response.body().size_hint().exact() == Some(0) {
            return response;
        }
        self.downloads.with_label_values(&[grant]).inc();
        let bytes = self.download_bytes.with_label_values(&[grant]);
        let (parts, body) = response.into_parts();
        let counted = body.into_data_stream().inspect(move |c| {
            if let Ok(c) = c {
                bytes.inc_by(c.len() as u64);
            }
        });
        Response::from_parts(parts, Body::from_stream(counted))
    }

    /// Counts upload bytes as they arrive (an atomic add per chunk).
    pub fn received(&self, body: crate::storage::ByteStream) -> crate::storage::ByteStream {
        let bytes = self.upload_bytes.clone();
        Box::pin(body.inspect(move |c| {
            if let Ok(c) = c {
                bytes.inc_by(c.len() as u64);
            }
        }))
    }

    /// The outcome of finishing an upload, and how long it took.
    pub fn finished<T>(&self, took: Duration, r: &crate::error::AppResult<T>) {
        use crate::error::AppError;
        let verdict = match r {
            Ok(_) => "clean",
            Err(AppError::Internal(_)) => "error",
            Err(e) if e.body().error == attache_protocol::ErrorCode::ScannerUnavailable => "blocked",
            Err(e) if e.status().is_server_error() => "error",
            Err(_) => "refused",
        };
        self.verdicts.with_label_values(&[verdict]).inc();
        self.finish_seconds.observe(took.as_secs_f64());
    }

    /// An open socket of `kind`, counted until the guard drops.
    pub fn socket(&self, kind: &'static str) -> GaugeGuard {
        GaugeGuard::new(self.sockets.with_label_values(&[kind]))
    }

    /// An event sent on a socket of `kind`, `delay` after it was published.
    pub fn event_sent(&self, kind: &'static str, delay: Option<Duration>) {
        self.events_sent.inc();
        if let Some(d) = delay {
            self.event_delay_seconds.with_label_values(&[kind]).observe(d.as_secs_f64());
        }
    }

    /// The text format, with the figures read now: the database pool's connections and the
    /// sign-ins the throttle refused.
    pub fn render(&self, pool: &crate::db::Db, throttled: u64) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        let mut text = String::from_utf8(out).unwrap_or_default();
        let (size, idle) = (pool.size() as u64, pool.num_idle() as u64);
        text.push_str(&format!(
            "# HELP attache_db_pool_connections Database connections by state\n\
             # TYPE attache_db_pool_connections gauge\n\
             attache_db_pool_connections{{state=\"in_use\"}} {}\n\
             attache_db_pool_connections{{state=\"idle\"}} {idle}\n\
             # HELP attache_login_throttled_total Sign-ins refused by the throttle\n\
             # TYPE attache_login_throttled_total counter\n\
             attache_login_throttled_total {throttled}\n",
            size.saturating_sub(idle)
        ));
        text
    }
}

/// Holds a gauge one higher until dropped.
pub struct GaugeGuard(IntGauge);

impl GaugeGuard {
    /// Raises `gauge` until the guard drops.
    pub fn new(gauge: IntGauge) -> GaugeGuard {
        gauge.inc();
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_every_family() {
        let m = Metrics::new().unwrap();
        m.upload_bytes.inc_by(5);
        m.verdicts.with_label_values(&["clean"]).inc();
        let _s = m.socket("staff");
        let mut out = Vec::new();
        TextEncoder::new().encode(&m.registry.gather(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("attache_upload_bytes_received_total 5"), "{text}");
        assert!(text.contains("attache_check_verdicts_total{verdict=\"clean\"} 1"), "{text}");
        assert!(text.contains("attache_sockets_open{kind=\"staff\"} 1"), "{text}");
        drop(_s);
    }
}
