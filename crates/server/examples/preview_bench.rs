//! Preview bench: our JPEG preview against Debian's `vipsthumbnail` on the same 12-megapixel
//! photo, interleaved, and the peak memory of four 40-megapixel photos previewed at once.
//! Prints figures; asserts nothing. Run it with `scripts/bench-preview.sh`.
//!
//! `preview_bench [RUNS]` (default 9). Needs `vipsthumbnail` (apt: libvips-tools) on the PATH.
//! `preview_bench make PATH` writes the 12-megapixel test photo, to try other tools on it.

use attache_server::preview::{inspect, PREVIEW_SIDE};
use image::{ImageFormat, RgbImage};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A photo-like picture: smooth light, edges and sensor noise, so the JPEG is as heavy as a
/// phone's (about 0.3 to 0.4 bytes a pixel at quality 90).
fn photo(path: &Path, w: u32, h: u32) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let img = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 25) as i32 - 12;
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let sky = (200.0 - 120.0 * fy + 30.0 * (fx * 9.0).sin()) as i32;
        let block = if ((x / 97) + (y / 61)) % 5 == 0 { 60 } else { 0 };
        let c = |base: i32| (base + noise + block).clamp(0, 255) as u8;
        image::Rgb([c(sky), c(sky - 30 + (fx * 80.0) as i32), c(sky - 60 + (fy * 90.0) as i32)])
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
}

/// CPU time (user + system) of this thread, or of the waited-for children, so far.
fn cpu(who: i32) -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let t = |v: libc::timeval| Duration::from_secs(v.tv_sec as u64) + Duration::from_micros(v.tv_usec as u64);
    t(u.ru_utime) + t(u.ru_stime)
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().split(' ').next()?.parse().ok());
    kib.unwrap_or(0.0) / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes: one preview in a fresh process; four at once, reporting the peak RSS.
    if args.get(1).map(String::as_str) == Some("one") {
        inspect(Path::new(&args[2]), ImageFormat::Jpeg).expect("preview");
        return;
    }
    if args.get(1).map(String::as_str) == Some("make") {
        photo(Path::new(&args[2]), 4000, 3000);
        return;
    }
    if args.get(1).map(String::as_str) == Some("four") {
        let before = peak_rss_mib();
        std::thread::scope(|s| {
            for p in &args[2..] {
                s.spawn(move || inspect(Path::new(p), ImageFormat::Jpeg).expect("preview"));
            }
        });
        println!("{before:.1} {:.1}", peak_rss_mib());
        return;
    }
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(9);
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("photo-12mp.jpg");
    photo(&p12, 4000, 3000);
    let bytes = std::fs::metadata(&p12).unwrap().len();
    println!(
        "12 MP photo: 4000x3000, {:.1} MiB, previews {PREVIEW_SIDE} px, {runs} runs each, interleaved",
        bytes as f64 / 1048576.0
    );
    let me = std::env::current_exe().unwrap();
    let out = dir.path().join("vips.jpg");
    let vips_out = format!("{}[Q=80]", out.display());
    let (mut ours, mut ours_proc, mut vips) = (vec![], vec![], vec![]);
    let (mut ours_cpu, mut ours_proc_cpu, mut vips_cpu) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let (t, c) = (Instant::now(), cpu(libc::RUSAGE_THREAD));
        let info = inspect(&p12, ImageFormat::Jpeg).expect("our preview");
        ours.push(t.elapsed());
        ours_cpu.push(cpu(libc::RUSAGE_THREAD) - c);
        assert!(info.preview.len() < 30 * 1024);
        let (t, c) = (Instant::now(), cpu(libc::RUSAGE_CHILDREN));
        let ok = Command::new(&me).arg("one").arg(&p12).status().map(|s| s.success()).unwrap_or(false);
        ours_proc.push(t.elapsed());
        ours_proc_cpu.push(cpu(libc::RUSAGE_CHILDREN) - c);
        assert!(ok, "the preview in a child process failed");
        let (t, c) = (Instant::now(), cpu(libc::RUSAGE_CHILDREN));
        let ok = Command::new("vipsthumbnail")
            .args(["-s", &PREVIEW_SIDE.to_string(), "-o", &vips_out])
            .arg(&p12)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        vips.push(t.elapsed());
        vips_cpu.push(cpu(libc::RUSAGE_CHILDREN) - c);
        assert!(ok, "vipsthumbnail failed (apt install libvips-tools)");
    }
    let (o, op, v) = (median(ours), median(ours_proc), median(vips));
    let (oc, opc, vc) = (median(ours_cpu), median(ours_proc_cpu), median(vips_cpu));
    println!("  (medians)                            wall ms   CPU ms");
    println!("  attache, in the service's process   {o:8.1} {oc:8.1}");
    println!("  attache, as a process (like vips)   {op:8.1} {opc:8.1}");
    println!("  vipsthumbnail -s {PREVIEW_SIDE}             {v:8.1} {vc:8.1}");
    println!(
        "  ratio attache/vipsthumbnail: wall {:.2} in process, {:.2} as processes; CPU {:.2}, {:.2} (goal <= 0.5)",
        o / v,
        op / v,
        oc / vc,
        opc / vc
    );
    let big: Vec<PathBuf> = (0..4).map(|i| dir.path().join(format!("photo-40mp-{i}.jpg"))).collect();
    for p in &big {
        photo(p, 7300, 5479);
    }
    let four = Command::new(&me).arg("four").args(&big).output().expect("four at once");
    let text = String::from_utf8_lossy(&four.stdout);
    let mut it = text.split_whitespace().filter_map(|v| v.parse::<f64>().ok());
    let (before, after) = (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0));
    println!(
        "four 40 MP photos (7300x5479) previewed at once: peak RSS {after:.1} MiB (process at start {before:.1} MiB)"
    );
}
