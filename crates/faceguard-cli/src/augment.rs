//! Photo augmentations for `bench-match`: crops, mirror images and brightness changes of real
//! photos, each giving a new, realistic probe of the same person.

use zeroize::Zeroizing;

/// One augmentation: mirror, crop window (fractions of width and height), brightness factor.
#[derive(Debug, Clone, Copy)]
pub struct Augmentation {
    pub flip: bool,
    /// Left, top, right, bottom of the kept window, as fractions.
    pub window: [f32; 4],
    pub brightness: f32,
}

/// The 41 augmentations used for probes: every mirror × crop × brightness combination except
/// the untouched photo itself.
pub fn probe_set() -> Vec<Augmentation> {
    let windows = [
        [0.0, 0.0, 1.0, 1.0],
        [0.0, 0.0, 0.9, 0.9],
        [0.1, 0.0, 1.0, 0.9],
        [0.0, 0.1, 0.9, 1.0],
        [0.1, 0.1, 1.0, 1.0],
        [0.05, 0.05, 0.95, 0.95],
        [0.1, 0.1, 0.9, 0.9],
    ];
    let mut set = Vec::new();
    for flip in [false, true] {
        for window in windows {
            for brightness in [1.0, 0.65, 1.35] {
                let a = Augmentation {
                    flip,
                    window,
                    brightness,
                };
                if flip || window != windows[0] || brightness != 1.0 {
                    set.push(a);
                }
            }
        }
    }
    set
}

/// Applies `a` to a packed RGB image; returns the new pixels (wiped on drop) and size.
pub fn apply(
    rgb: &[u8],
    width: u32,
    height: u32,
    a: &Augmentation,
) -> (Zeroizing<Vec<u8>>, u32, u32) {
    let (w, h) = (width as usize, height as usize);
    let x0 = (a.window[0] * w as f32) as usize;
    let y0 = (a.window[1] * h as f32) as usize;
    let x1 = ((a.window[2] * w as f32) as usize).clamp(x0 + 1, w);
    let y1 = ((a.window[3] * h as f32) as usize).clamp(y0 + 1, h);
    let (nw, nh) = (x1 - x0, y1 - y0);
    let mut out = Zeroizing::new(Vec::with_capacity(nw * nh * 3));
    for y in y0..y1 {
        for i in 0..nw {
            let x = if a.flip { x1 - 1 - i } else { x0 + i };
            for c in 0..3 {
                let v = f32::from(rgb[(y * w + x) * 3 + c]) * a.brightness;
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    (out, nw as u32, nh as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_set_has_41_distinct_changes() {
        let set = probe_set();
        assert_eq!(set.len(), 41);
    }

    #[test]
    fn flip_mirrors_rows_and_crop_keeps_the_window() {
        // 2x1 image: red, blue.
        let rgb = [255, 0, 0, 0, 0, 255];
        let flip = Augmentation {
            flip: true,
            window: [0.0, 0.0, 1.0, 1.0],
            brightness: 1.0,
        };
        let (out, w, h) = apply(&rgb, 2, 1, &flip);
        assert_eq!((&out[..], w, h), (&[0, 0, 255, 255, 0, 0][..], 2, 1));
        let dark_right = Augmentation {
            flip: false,
            window: [0.5, 0.0, 1.0, 1.0],
            brightness: 0.5,
        };
        let (out, w, _) = apply(&rgb, 2, 1, &dark_right);
        assert_eq!((&out[..], w), (&[0, 0, 128][..], 1));
    }
}
