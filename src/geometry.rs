//! Points and boxes in source-image pixel coordinates.

use serde::Serialize;

/// A point in pixel coordinates (x to the right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    /// A point at (`x`, `y`).
    pub const fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }
}

/// An axis-aligned box: top-left corner, width and height.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BoundingBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoundingBox {
    /// Area in square pixels (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union with `other`, in 0..=1.
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let ix = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let iy = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        let inter = ix.max(0.0) * iy.max(0.0);
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_boxes_is_one_and_of_disjoint_boxes_zero() {
        let a = BoundingBox {
            x: 10.0,
            y: 10.0,
            width: 20.0,
            height: 20.0,
        };
        let b = BoundingBox { x: 40.0, ..a };
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&b), 0.0);
        let half = BoundingBox { x: 20.0, ..a };
        assert!((a.iou(&half) - 1.0 / 3.0).abs() < 1e-6);
    }
}
