//! The DET curve (FNMR against FMR on a log scale) as a PNG: drawn by plotters into an RGB buffer, encoded by `image`.
//!
//! Text needs a TrueType font loaded at run time (`$FACEGUARD_FONT`, else a few usual system
//! paths). Without one the plot is still drawn (curve, grid, frame, chance diagonal), without
//! any text, and a warning says so.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::shared::{report_warning, CliError};

/// What the plot shows.
pub struct DetPlot<'a> {
    /// `(FMR, FNMR)` points from (0, 1) to (1, 0).
    pub det: &'a [(f64, f64)],
    pub auc: f64,
    pub genuine: usize,
    pub impostor: usize,
    pub threshold: f32,
    /// `(FMR, FNMR)` at `threshold`.
    pub operating_point: (f64, f64),
    /// What the axes, the counts and the operating point are called.
    pub names: DetNames,
}

/// The names on a DET plot: recognition (false matches) or presentation-attack detection
/// (attacks accepted, bona fide refused).
pub struct DetNames {
    /// The x axis (log scale).
    pub x: &'static str,
    /// The y axis.
    pub y: &'static str,
    /// Short names of the two rates at the operating point.
    pub rates: (&'static str, &'static str),
    /// What the genuine and impostor counts count.
    pub counts: (&'static str, &'static str),
    /// A vertical line at this x (the default target), if any.
    pub target: Option<f64>,
}

impl DetNames {
    /// Face recognition: false-match rate against false-non-match rate.
    pub const RECOGNITION: DetNames = DetNames {
        x: "false-match rate (log scale)",
        y: "false-non-match rate",
        rates: ("FMR", "FNMR"),
        counts: ("genuine", "impostor pairs"),
        target: Some(1e-3),
    };
    /// Presentation-attack detection (ISO/IEC 30107-3): attacks accepted against bona fide
    /// presentations refused.
    pub const LIVENESS: DetNames = DetNames {
        x: "APCER: attacks accepted (log scale)",
        y: "BPCER: live faces refused",
        rates: ("APCER", "BPCER"),
        counts: ("live", "attack images"),
        target: None,
    };
}

const SIZE: (u32, u32) = (900, 700);
const FONT_FAMILY: &str = "sans-serif";

/// Usual places of a plain sans-serif TrueType font (Debian/Ubuntu, Fedora, Arch, macOS,
/// Windows).
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Registers a font for plotters once; whether one could be loaded.
fn font_available() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(|| {
        let candidates: Vec<PathBuf> = match std::env::var_os("FACEGUARD_FONT") {
            Some(p) => vec![PathBuf::from(p)],
            None => FONT_CANDIDATES.iter().map(PathBuf::from).collect(),
        };
        candidates.iter().any(|path| {
            let Ok(bytes) = std::fs::read(path) else {
                return false;
            };
            // plotters keeps fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            register_font(FONT_FAMILY, FontStyle::Normal, bytes).is_ok()
        })
    })
}

/// Draws the DET curve into a PNG at `path`.
pub fn write_det_png(path: &Path, plot: &DetPlot) -> Result<(), CliError> {
    let with_text = font_available();
    if !with_text {
        report_warning(
            "no TrueType font found (install fonts-dejavu-core or set FACEGUARD_FONT to a .ttf \
             file): the DET plot is drawn without text",
        );
    }
    let (w, h) = SIZE;
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    draw(&mut buf, plot, with_text)
        .map_err(|e| CliError::new(format!("cannot draw the DET plot: {e}")))?;
    let image = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| CliError::new("cannot draw the DET plot: pixel buffer has a wrong size"))?;
    image
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| CliError::new(format!("cannot write DET plot {}: {e}", path.display())))
}

/// The left end of the log FAR axis: a power of ten below the smallest non-zero FAR, `1/I`.
fn far_axis_start(impostor: usize) -> f64 {
    let smallest = 0.5 / impostor.max(1) as f64;
    let exponent = smallest.log10().floor().clamp(-9.0, -3.0);
    // Parsed, not computed, so that the decade is exact.
    format!("1e{exponent}").parse().unwrap_or(1e-3)
}

fn draw(buf: &mut [u8], plot: &DetPlot, with_text: bool) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::<RGBPixel>::with_buffer_and_format(buf, SIZE)?.into_drawing_area();
    root.fill(&WHITE)?;
    let lo = far_axis_start(plot.impostor);
    let x = |far: f64| far.clamp(lo, 1.0);

    let mut builder = ChartBuilder::on(&root);
    builder.margin(25);
    if with_text {
        builder
            .caption(
                format!(
                    "DET: AUC {:.6} ({} {}, {} {})",
                    plot.auc, plot.genuine, plot.names.counts.0, plot.impostor, plot.names.counts.1
                ),
                (FONT_FAMILY, 22),
            )
            .x_label_area_size(55)
            .y_label_area_size(65);
    }
    let mut chart = builder.build_cartesian_2d((lo..1.0f64).log_scale(), 0.0f64..1.0f64)?;

    let grid = RGBColor(220, 220, 220);
    if with_text {
        chart
            .configure_mesh()
            .x_desc(plot.names.x)
            .y_desc(plot.names.y)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((FONT_FAMILY, 15))
            .axis_desc_style((FONT_FAMILY, 17))
            .bold_line_style(grid)
            .light_line_style(WHITE)
            .draw()?;
    } else {
        // The same grid and frame, without labels.
        let mut decade = lo;
        while decade <= 1.0 * (1.0 + 1e-9) {
            chart.draw_series(LineSeries::new([(decade, 0.0), (decade, 1.0)], grid))?;
            decade *= 10.0;
        }
        for k in 0..=10 {
            let y = f64::from(k) / 10.0;
            chart.draw_series(LineSeries::new([(lo, y), (1.0, y)], grid))?;
        }
        chart.draw_series(LineSeries::new(
            [(lo, 0.0), (1.0, 0.0), (1.0, 1.0), (lo, 1.0), (lo, 0.0)],
            BLACK,
        ))?;
    }

    // Chance: FNMR = 1 - FMR, a curve on a log axis.
    let steps = 200;
    let diagonal = (0..=steps).map(|k| {
        let far = lo * (1.0 / lo).powf(f64::from(k) / f64::from(steps));
        (far, 1.0 - far)
    });
    let chance = chart.draw_series(LineSeries::new(diagonal, RGBColor(150, 150, 150)))?;
    if with_text {
        chance
            .label("chance")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(150, 150, 150)));
    }

    // The default target (FMR = 1e-3 for recognition).
    if let Some(target) = plot.names.target.filter(|&t| lo < t) {
        chart.draw_series(LineSeries::new(
            [(target, 0.0), (target, 1.0)],
            RGBColor(255, 170, 0).stroke_width(1),
        ))?;
    }

    let curve = chart.draw_series(LineSeries::new(
        plot.det.iter().map(|&(fmr, fnmr)| (x(fmr), fnmr)),
        BLUE.stroke_width(2),
    ))?;
    if with_text {
        curve
            .label("DET")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    }

    let (far, tar) = plot.operating_point;
    let point = chart.draw_series(std::iter::once(Circle::new((x(far), tar), 6, RED.filled())))?;
    if with_text {
        point
            .label(format!(
                "threshold {:.4}: {} {far:.5}, {} {tar:.4}",
                plot.threshold, plot.names.rates.0, plot.names.rates.1
            ))
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT_FAMILY, 15))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_axis_starts_a_decade_below_one_false_accept() {
        assert_eq!(far_axis_start(1690), 1e-4);
        assert_eq!(far_axis_start(10), 1e-3);
        assert_eq!(far_axis_start(0), 1e-3);
    }
}
