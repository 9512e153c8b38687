//! `docs/benchmarks.svg`, drawn with plotters: bar charts of ratios on a logarithmic axis.
//!
//! [`Report::svg`](crate::report::Report::svg) chooses what to show (groups of bars, one per scenario, and the
//! implementation every bar is a ratio to); this module only draws. Bars start at ratio 1, so that faster goes
//! down and slower goes up, and the axis is logarithmic, so that 2x slower and 2x faster are bars of one length.
//! Only plotters' SVG backend is used: it writes text as SVG `<text>` for the viewer to set, so no font library is
//! linked.

use plotters::coord::Shift;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::maps::Implementation;
use crate::report::REFERENCE;

/// One cluster of bars: a scenario and the ratio of each implementation.
#[derive(Debug, Clone)]
pub(crate) struct ChartGroup {
    /// The label under the cluster, e.g. `lookup_hit 100k`.
    pub(crate) label: String,
    /// The ratio of each implementation, in drawing order.
    pub(crate) bars: Vec<(Implementation, f64)>,
}

/// One chart with its own title and groups.
#[derive(Debug, Clone)]
pub(crate) struct ChartPanel {
    /// The title above the chart.
    pub(crate) title: String,
    /// The clusters, left to right.
    pub(crate) groups: Vec<ChartGroup>,
}

/// The colour of an implementation's bars: blues for ours, greys for std, orange for imbl, greens for rpds.
pub(crate) fn color(implementation: Implementation) -> RGBColor {
    match implementation {
        Implementation::HamtRc => RGBColor(0x1f, 0x4e, 0x9c),
        Implementation::HamtArc => RGBColor(0x4a, 0x90, 0xd9),
        Implementation::HamtArcT => RGBColor(0x9c, 0xc3, 0xee),
        Implementation::StdFold => RGBColor(0x33, 0x33, 0x33),
        Implementation::StdSip => RGBColor(0x99, 0x99, 0x99),
        Implementation::Imbl => RGBColor(0xe8, 0x77, 0x2e),
        Implementation::Rpds => RGBColor(0x2f, 0x9e, 0x44),
        Implementation::RpdsSync => RGBColor(0x94, 0xd4, 0x9e),
    }
}

/// The width of one bar, in pixels (the x axis counts in bars).
const BAR_WIDTH: f64 = 9.0;
/// The space between two clusters, in bars.
const GROUP_GAP: f64 = 16.0 / BAR_WIDTH;
/// The height of the plotting area of a panel.
const PLOT_HEIGHT: u32 = 260;
/// The space left of the plotting area, for the axis labels.
const AXIS_SPACE: u32 = 60;
/// The margin left of the axis labels.
const LEFT_MARGIN: u32 = 50;
/// The space under the plotting area, for the clusters' labels.
const LABEL_SPACE: u32 = 170;
/// The space above the plotting area, for the panel's title.
const TITLE_SPACE: u32 = 34;
/// The space right of the widest panel, for the legend.
const LEGEND_SPACE: u32 = 170;
/// The width of a character of a panel's title, in pixels, on the generous side: the viewer sets the text, so its
/// width is an estimate, and the chart is made wide enough for the longest title.
const TITLE_CHARACTER_WIDTH: f64 = 8.0;
/// The space under the last panel, for the footer.
const FOOTER_SPACE: u32 = 30;

/// Reads a ratio on the y axis: `0.01x`, `2x`, `1000x`, `1e-5x`.
fn axis_label(ratio: f64) -> String {
    if ratio >= 1.0 {
        format!("{ratio:.0}x")
    } else if ratio >= 0.001 {
        let text = format!("{ratio:.3}");
        format!("{}x", text.trim_end_matches('0'))
    } else {
        format!("{ratio:.0e}x")
    }
}

/// A logarithmic axis from `10^low` to `10^high` with grid lines at 1, 2 and 5 times each power of ten. The powers
/// of ten are labelled, and on short scales (three decades or fewer) the 2 and 5 lines too.
fn y_axis(low: f64, high: f64) -> WithKeyPoints<LogCoord<f64>> {
    let label_minor = high - low <= 3.0;
    let (mut labelled, mut unlabelled) = (Vec::new(), Vec::new());
    // The exponents are whole numbers of a few decades, so counting them in `i32` is exact.
    for exponent in low as i32..=high as i32 {
        for (factor, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let ratio = factor * 10f64.powi(exponent);
            if ratio.log10() > high + 1e-9 {
                continue;
            }
            if major || label_minor { labelled.push(ratio) } else { unlabelled.push(ratio) }
        }
    }
    (10f64.powf(low)..10f64.powf(high)).log_scale().with_key_points(labelled).with_light_points(unlabelled)
}

/// The width of a panel's clusters and gaps, in bars.
fn panel_width(panel: &ChartPanel) -> f64 {
    panel.groups.iter().map(|group| group.bars.len() as f64 + GROUP_GAP).sum()
}

/// Draws the panels one above the other, with a legend of the implementations at the right and a footer naming
/// `date`, and returns the SVG document.
///
/// # Errors
///
/// Returns plotters' error if a drawing operation fails; the SVG backend writes to a `String`, so this does not
/// happen in practice, but it is reported rather than assumed.
pub(crate) fn render(panels: &[ChartPanel], date: &str) -> Result<String, DrawingAreaErrorKind<std::io::Error>> {
    let widest = panels.iter().map(panel_width).fold(0.0_f64, f64::max);
    let longest_title = panels.iter().map(|panel| panel.title.chars().count()).max().unwrap_or(0);
    let width = (f64::from(LEFT_MARGIN + AXIS_SPACE + LEGEND_SPACE) + widest * BAR_WIDTH)
        .max(f64::from(LEFT_MARGIN) + longest_title as f64 * TITLE_CHARACTER_WIDTH + 20.0)
        .max(640.0) as u32;
    let panel_height = TITLE_SPACE + PLOT_HEIGHT + LABEL_SPACE;
    let height = panel_height * panels.len() as u32 + FOOTER_SPACE;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        for (index, panel) in panels.iter().enumerate() {
            let area = root.clone().shrink((0, panel_height * index as u32), (width, panel_height));
            draw_panel(&root, &area, panel, width)?;
        }
        draw_legend(&root, width)?;
        let footer = format!("Generated {date} by hamt-bench; see benchmarks.md for every figure.");
        root.draw(&Text::new(
            footer,
            (LEFT_MARGIN as i32, (height - 10) as i32),
            ("sans-serif", 13).into_font().color(&RGBColor(0x66, 0x66, 0x66)),
        ))?;
        root.present()?;
    }
    Ok(svg)
}

/// The legend, at the right of the first panel: a swatch and a name per implementation.
fn draw_legend(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    width: u32,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let x = (width - LEGEND_SPACE + 10) as i32;
    for (index, implementation) in Implementation::ALL.into_iter().enumerate() {
        let y = (TITLE_SPACE + 10) as i32 + index as i32 * 16;
        root.draw(&Rectangle::new([(x, y - 9), (x + 10, y + 1)], color(implementation).filled()))?;
        let name = if implementation == REFERENCE {
            format!("{} (the 1x line)", implementation.name())
        } else {
            implementation.name().to_owned()
        };
        root.draw(&Text::new(
            name,
            (x + 15, y - 4),
            TextStyle::from(("sans-serif", 13).into_font()).pos(left_center()),
        ))?;
    }
    Ok(())
}

/// The anchor of text that starts at its position and is centred on it vertically.
fn left_center() -> Pos {
    Pos::new(HPos::Left, VPos::Center)
}

/// Draws one panel into `area`; the clusters' labels go on `root`, at the pixels plotters computed for them.
fn draw_panel(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    panel: &ChartPanel,
    width: u32,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let title_font = ("sans-serif", 17).into_font().style(FontStyle::Bold);
    let ratios: Vec<f64> = panel
        .groups
        .iter()
        .flat_map(|group| group.bars.iter().map(|&(_, ratio)| ratio))
        .filter(|ratio| ratio.is_finite() && *ratio > 0.0)
        .collect();
    // The title starts at the left margin (plotters' caption is centred, and a long title would run off the
    // left edge of a narrow chart).
    area.draw(&Text::new(panel.title.clone(), (LEFT_MARGIN as i32, 12), title_font))?;
    if ratios.is_empty() {
        area.draw(&Text::new("nothing measured", (LEFT_MARGIN as i32, 50), ("sans-serif", 13)))?;
        return Ok(());
    }
    // Whole powers of ten on both ends, and at least one decade, so that the axis always shows the 1x line.
    let low = ratios.iter().copied().fold(1.0_f64, f64::min).log10().floor();
    let high = ratios.iter().copied().fold(1.0_f64, f64::max).log10().ceil().max(low + 1.0);
    let bars_width = panel_width(panel);
    let plot_pixels = bars_width * BAR_WIDTH;
    let right_margin = f64::from(width - LEFT_MARGIN - AXIS_SPACE) - plot_pixels;
    let mut chart = ChartBuilder::on(area)
        .margin_left(LEFT_MARGIN)
        .margin_right(right_margin.max(0.0) as u32)
        .margin_top(TITLE_SPACE)
        .y_label_area_size(AXIS_SPACE)
        .x_label_area_size(LABEL_SPACE)
        .build_cartesian_2d(0.0..bars_width, y_axis(low, high))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&|ratio| axis_label(*ratio))
        .bold_line_style(RGBColor(0xbb, 0xbb, 0xbb))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .label_style(("sans-serif", 13))
        .draw()?;
    // Every cluster's bars, left to right; each implementation is one series, so that its bars share a style.
    let mut positions: Vec<(f64, Implementation, f64)> = Vec::new();
    let mut centres: Vec<(f64, &str)> = Vec::new();
    let mut x = GROUP_GAP / 2.0;
    for group in &panel.groups {
        for (index, &(implementation, ratio)) in group.bars.iter().enumerate() {
            positions.push((x + index as f64, implementation, ratio));
        }
        centres.push((x + group.bars.len() as f64 / 2.0, &group.label));
        x += group.bars.len() as f64 + GROUP_GAP;
    }
    for implementation in Implementation::ALL {
        let style = color(implementation).filled();
        chart.draw_series(
            positions
                .iter()
                .filter(|&&(_, bar, ratio)| bar == implementation && ratio.is_finite() && ratio > 0.0)
                .map(|&(left, _, ratio)| Rectangle::new([(left, 1.0), (left + 1.0 - 1.0 / BAR_WIDTH, ratio)], style)),
        )?;
    }
    chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, 1.0), (bars_width, 1.0)], BLACK)))?;
    // The labels under the clusters, turned to run downwards from the axis so that long ones do not overlap.
    let label_font =
        TextStyle::from(("sans-serif", 13).into_font().transform(FontTransform::Rotate90)).pos(left_center());
    for (centre, label) in centres {
        let (pixel_x, pixel_y) = chart.backend_coord(&(centre, 10f64.powf(low)));
        root.draw(&Text::new(label.to_owned(), (pixel_x, pixel_y + 6), label_font.clone()))?;
    }
    Ok(())
}
