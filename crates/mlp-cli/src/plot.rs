//! The history as CSV, and the loss curves as a self-contained SVG (drawn
//! here: a few polylines need no plotting library or fonts).

use std::fmt::Write as _;

use mlp::EpochRecord;

/// `epoch,train_loss,validation_loss,train_metric,validation_metric,learning_rate,seconds`.
pub fn history_csv(history: &[EpochRecord]) -> String {
    let mut s = String::from(
        "epoch,train_loss,validation_loss,train_metric,validation_metric,learning_rate,seconds\n",
    );
    let opt = |v: Option<f64>| v.map(|v| format!("{v:?}")).unwrap_or_default();
    for r in history {
        let _ = writeln!(
            s,
            "{},{:?},{},{:?},{},{},{:.6}",
            r.epoch,
            r.train_loss,
            opt(r.validation_loss),
            r.train_metrics.headline(),
            opt(r.validation_metrics.as_ref().map(mlp::metrics::Metrics::headline)),
            opt(r.learning_rate),
            r.elapsed.as_secs_f64()
        );
    }
    s
}

/// Training and validation loss against epoch; the loss axis is logarithmic
/// when the positive losses span more than two decades.
pub fn loss_svg(history: &[EpochRecord]) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 440.0, 80.0, 20.0, 30.0, 50.0);
    let train: Vec<(f64, f64)> = history.iter().map(|r| (r.epoch as f64, r.train_loss)).collect();
    let validation: Vec<(f64, f64)> =
        history.iter().filter_map(|r| r.validation_loss.map(|v| (r.epoch as f64, v))).collect();
    let all: Vec<f64> =
        train.iter().chain(&validation).map(|p| p.1).filter(|v| v.is_finite()).collect();
    let (lo, hi) =
        all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let log = lo > 0.0 && hi / lo > 100.0;
    let f = |v: f64| if log { v.log10() } else { v };
    let (y0, y1) = if lo.is_finite() { (f(lo), f(hi)) } else { (0.0, 1.0) };
    let (y0, y1) = if y1 > y0 { (y0, y1) } else { (y0 - 0.5, y1 + 0.5) };
    let epochs = history.len().max(2) as f64;
    let px = |e: f64| left + (e - 1.0) / (epochs - 1.0) * (w - left - right);
    let py = |v: f64| top + (y1 - f(v)) / (y1 - y0) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<g stroke="black" fill="none"><line x1="{left}" y1="{}" x2="{}" y2="{}"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}"/></g>"#,
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    for k in 0..=4 {
        let v = y0 + (y1 - y0) * f64::from(k) / 4.0;
        let label = if log { 10f64.powf(v) } else { v };
        let y = top + (y1 - v) / (y1 - y0) * (h - top - bottom);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{y:.1}" font-size="12" text-anchor="end" font-family="sans-serif">{label:.3e}</text>"#,
            left - 6.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="13" text-anchor="middle" font-family="sans-serif">epoch (1 to {})</text>"#,
        (left + w - right) / 2.0,
        h - 15.0,
        history.len()
    );
    let axis = if log { "loss (log scale)" } else { "loss" };
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" font-size="13" font-family="sans-serif" transform="rotate(-90 16 {})">{axis}</text>"#,
        h / 2.0,
        h / 2.0
    );
    for (name, points, colour, y) in [
        ("training", &train, "#1f77b4", top + 4.0),
        ("validation", &validation, "#d62728", top + 22.0),
    ] {
        if points.is_empty() {
            continue;
        }
        let coords: Vec<String> = points
            .iter()
            .filter(|p| p.1.is_finite() && (!log || p.1 > 0.0))
            .map(|&(e, v)| format!("{:.2},{:.2}", px(e), py(v)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline id="{name}" fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            coords.join(" ")
        );
        // A line of one point draws nothing: mark it.
        if let [only] = &coords[..] {
            let (cx, cy) = only.split_once(',').unwrap_or_default();
            let _ = writeln!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>"#);
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{y}" font-size="13" fill="{colour}" font-family="sans-serif">{name} loss</text>"#,
            w - right - 130.0
        );
    }
    s.push_str("</svg>\n");
    s
}
