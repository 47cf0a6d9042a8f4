//! Drawing primitives on a tiny-skia pixmap: fills, shapes and glyphs.

use cosmic_text::SwashContent;
use tiny_skia::{
    Color, FillRule, GradientStop, LinearGradient, Paint, Path, PathBuilder, Pixmap, Point,
    RadialGradient, Rect, Shader, SpreadMode, Transform,
};

use super::fonts::Engine;
use super::text::{Direction, Face, Line};

/// An sRGB colour with straight (not premultiplied) alpha.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    pub const fn hex(rgb: u32) -> Self {
        Rgba((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8, 255)
    }

    pub const fn alpha(self, a: u8) -> Self {
        Rgba(self.0, self.1, self.2, a)
    }

    fn color(self) -> Color {
        Color::from_rgba8(self.0, self.1, self.2, self.3)
    }
}

fn paint(color: Rgba) -> Paint<'static> {
    let mut p = Paint::default(); // anti-aliased by default
    p.set_color(color.color());
    p
}

fn fill(pm: &mut Pixmap, path: &Path, paint: &Paint) {
    pm.fill_path(path, paint, FillRule::Winding, Transform::identity(), None);
}

/// Fills the whole pixmap with a linear gradient from `from` (top-left)
/// to `to` (bottom-right).
pub(crate) fn linear_background(pm: &mut Pixmap, from: Rgba, to: Rgba) -> Option<()> {
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    let shader = LinearGradient::new(
        Point::from_xy(0.0, 0.0),
        Point::from_xy(w, h),
        vec![
            GradientStop::new(0.0, from.color()),
            GradientStop::new(1.0, to.color()),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    )?;
    fill_rect_shader(pm, Rect::from_xywh(0.0, 0.0, w, h)?, shader);
    Some(())
}

/// A soft round glow of `color` fading to transparent over `radius`.
pub(crate) fn glow(pm: &mut Pixmap, cx: f32, cy: f32, radius: f32, color: Rgba) -> Option<()> {
    let shader = RadialGradient::new(
        Point::from_xy(cx, cy),
        0.0,
        Point::from_xy(cx, cy),
        radius,
        vec![
            GradientStop::new(0.0, color.color()),
            GradientStop::new(0.5, color.alpha(color.3 / 3).color()),
            GradientStop::new(1.0, color.alpha(0).color()),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    )?;
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    fill_rect_shader(pm, Rect::from_xywh(0.0, 0.0, w, h)?, shader);
    Some(())
}

fn fill_rect_shader(pm: &mut Pixmap, rect: Rect, shader: Shader<'static>) {
    let p = Paint {
        shader,
        ..Paint::default()
    };
    pm.fill_rect(rect, &p, Transform::identity(), None);
}

/// A rectangle with round corners of radius `r` (clamped to half the
/// shorter side, so `r = h / 2` gives a pill).
pub(crate) fn rounded_rect(
    pm: &mut Pixmap,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    r: f32,
    color: Rgba,
) -> Option<()> {
    let path = rounded_rect_path(x, y, w, h, r)?;
    fill(pm, &path, &paint(color));
    Some(())
}

/// The outline (stroke) of a rounded rectangle.
pub(crate) fn rounded_rect_outline(
    pm: &mut Pixmap,
    (x, y, w, h): (f32, f32, f32, f32),
    r: f32,
    width: f32,
    color: Rgba,
) -> Option<()> {
    let half = width / 2.0;
    let path = rounded_rect_path(x + half, y + half, w - width, h - width, r - half)?;
    let stroke = tiny_skia::Stroke {
        width,
        ..Default::default()
    };
    pm.stroke_path(&path, &paint(color), &stroke, Transform::identity(), None);
    Some(())
}

fn rounded_rect_path(x: f32, y: f32, w: f32, h: f32, r: f32) -> Option<Path> {
    let r = r.min(w / 2.0).min(h / 2.0).max(0.0);
    // Circle-quadrant approximation with cubic Béziers.
    let k = r * 0.552_284_8;
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(x + w - r, y);
    pb.cubic_to(x + w - r + k, y, x + w, y + r - k, x + w, y + r);
    pb.line_to(x + w, y + h - r);
    pb.cubic_to(x + w, y + h - r + k, x + w - r + k, y + h, x + w - r, y + h);
    pb.line_to(x + r, y + h);
    pb.cubic_to(x + r - k, y + h, x, y + h - r + k, x, y + h - r);
    pb.line_to(x, y + r);
    pb.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
    pb.close();
    pb.finish()
}

pub(crate) fn circle(pm: &mut Pixmap, cx: f32, cy: f32, r: f32, color: Rgba) -> Option<()> {
    let path = PathBuilder::from_circle(cx, cy, r)?;
    fill(pm, &path, &paint(color));
    Some(())
}

/// A circle outline of stroke `width`.
pub(crate) fn ring(
    pm: &mut Pixmap,
    cx: f32,
    cy: f32,
    r: f32,
    width: f32,
    color: Rgba,
) -> Option<()> {
    let path = PathBuilder::from_circle(cx, cy, r)?;
    let stroke = tiny_skia::Stroke {
        width,
        ..Default::default()
    };
    pm.stroke_path(&path, &paint(color), &stroke, Transform::identity(), None);
    Some(())
}

/// A closed polygon through `points`.
pub(crate) fn polygon(pm: &mut Pixmap, points: &[(f32, f32)], color: Rgba) -> Option<()> {
    let mut pb = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    pb.move_to(first.0, first.1);
    for p in rest {
        pb.line_to(p.0, p.1);
    }
    pb.close();
    fill(pm, &pb.finish()?, &paint(color));
    Some(())
}

/// Draws `text` with the left edge of its ink at `x` and its baseline at
/// `baseline`. Returns the width drawn.
pub(crate) fn text(
    pm: &mut Pixmap,
    e: &mut Engine,
    face: Face,
    x: f32,
    baseline: f32,
    text: &str,
    color: Rgba,
) -> f32 {
    let shaped = e.line(face, text, Direction::Auto);
    line(pm, e, &shaped, x, baseline, color)
}

/// Draws a shaped line with the left edge of its ink at `x` and its baseline
/// at `baseline`. Returns its width.
pub(crate) fn line(
    pm: &mut Pixmap,
    e: &mut Engine,
    line: &Line,
    x: f32,
    baseline: f32,
    color: Rgba,
) -> f32 {
    let Engine { system, raster, .. } = e;
    let (pw, ph) = (i64::from(pm.width()), i64::from(pm.height()));
    let pixels = pm.pixels_mut();
    let alpha = f32::from(color.3) / 255.0;
    let src = [f32::from(color.0), f32::from(color.1), f32::from(color.2)];
    for glyph in &line.glyphs {
        if glyph.glyph_id == 0 {
            continue; // .notdef, a box: never drawn
        }
        let physical = glyph.physical((x, baseline), 1.0);
        let Some(image) = raster.get_image(system, physical.cache_key) else {
            continue; // spaces have no image
        };
        let coverage_at: fn(&[u8], usize) -> u8 = match image.content {
            SwashContent::Mask => |data, i| data.get(i).copied().unwrap_or(0),
            // Colour glyphs are not expected from these fonts; use their alpha.
            SwashContent::Color => |data, i| data.get(i * 4 + 3).copied().unwrap_or(0),
            SwashContent::SubpixelMask => |data, i| data.get(i * 4 + 1).copied().unwrap_or(0),
        };
        let (w, h) = (
            image.placement.width as usize,
            image.placement.height as usize,
        );
        let ox = i64::from(physical.x) + i64::from(image.placement.left);
        let oy = i64::from(physical.y) - i64::from(image.placement.top);
        for gy in 0..h {
            for gx in 0..w {
                let (px, py) = (ox + gx as i64, oy + gy as i64);
                if px < 0 || py < 0 || px >= pw || py >= ph {
                    continue;
                }
                let Some(dst) = pixels.get_mut((py * pw + px) as usize) else {
                    continue;
                };
                let coverage = f32::from(coverage_at(&image.data, gy * w + gx)) / 255.0;
                // Light text on a dark ground looks thin when blended in sRGB;
                // a gentle coverage curve evens the stem weight out.
                let a = coverage.powf(0.8) * alpha;
                if a <= 0.0 {
                    continue;
                }
                let blend = |s: f32, d: u8| {
                    (s * a + f32::from(d) * (1.0 - a)).round().clamp(0.0, 255.0) as u8
                };
                let r = blend(src[0], dst.red());
                let g = blend(src[1], dst.green());
                let b = blend(src[2], dst.blue());
                let na = blend(255.0, dst.alpha());
                // Premultiplied invariant: colour channels never exceed alpha.
                if let Some(c) =
                    tiny_skia::PremultipliedColorU8::from_rgba(r.min(na), g.min(na), b.min(na), na)
                {
                    *dst = c;
                }
            }
        }
    }
    line.width
}
