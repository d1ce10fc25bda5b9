use crate::model::ModelError;

/// Detection settings. The defaults follow OpenCV's `FaceDetectorYN` as used for the reference
/// outputs: long side 640, score 0.6, NMS IoU 0.3; every face kept whatever its size.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Frames are scaled down (never up) so that their long side is at most this many pixels,
    /// then padded to a multiple of 32.
    pub max_side: u32,
    /// Faces scoring below this (0..=1) are dropped.
    pub score_threshold: f32,
    /// Of two faces overlapping by more than this IoU, the weaker is dropped.
    pub nms_threshold: f32,
    /// At most this many faces are returned, strongest first.
    pub max_faces: usize,
    /// Faces whose box is narrower or shorter than this many pixels of the frame are dropped
    /// (before overlaps are suppressed and `max_faces` counted): a door camera ignores the
    /// people walking past in the background. 0 keeps every face; at most
    /// [`ImageView::MAX_SIDE`](crate::ImageView::MAX_SIDE).
    pub min_face: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            max_side: 640,
            score_threshold: 0.6,
            nms_threshold: 0.3,
            max_faces: 256,
            min_face: 0,
        }
    }
}

impl DetectorConfig {
    /// Checks every setting is in range ([`ModelError::Config`] says which is not); loading a
    /// detector checks them too.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |what: &str| Err(ModelError::Config(format!("detector config: {what}")));
        if !(32..=4096).contains(&self.max_side) {
            return bad("max_side must be in 32..=4096");
        }
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return bad("score_threshold must be in 0..=1");
        }
        if !(0.0..=1.0).contains(&self.nms_threshold) {
            return bad("nms_threshold must be in 0..=1");
        }
        if self.max_faces == 0 {
            return bad("max_faces must be at least 1");
        }
        if self.min_face > crate::ImageView::MAX_SIDE {
            return bad("min_face must be at most ImageView::MAX_SIDE (16384) pixels");
        }
        Ok(())
    }

    /// For a `width × height` frame: the scaled size the frame is resized to, and the padded
    /// model input size (multiples of 32).
    pub(crate) fn input_geometry(
        &self,
        width: u32,
        height: u32,
    ) -> ((usize, usize), (usize, usize)) {
        let long = width.max(height).max(1) as f64;
        let s = (self.max_side as f64 / long).min(1.0);
        let scaled = |v: u32| ((v as f64 * s).round() as usize).clamp(1, v.max(1) as usize);
        let (dw, dh) = (scaled(width), scaled(height));
        let pad = |v: usize| v.div_ceil(super::ALIGN) * super::ALIGN;
        ((dw, dh), (pad(dw), pad(dh)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_frames_scale_to_long_side_640_padded_to_32() {
        let c = DetectorConfig::default();
        assert_eq!(c.input_geometry(1920, 1080), ((640, 360), (640, 384)));
        assert_eq!(c.input_geometry(480, 640), ((480, 640), (480, 640)));
        assert_eq!(c.input_geometry(2280, 1588), ((640, 446), (640, 448)));
    }

    #[test]
    fn a_smallest_face_beyond_any_frame_is_refused() {
        let at = |min_face| DetectorConfig {
            min_face,
            ..DetectorConfig::default()
        };
        assert!(at(0).validate().is_ok());
        assert!(at(crate::ImageView::MAX_SIDE).validate().is_ok());
        assert!(at(crate::ImageView::MAX_SIDE + 1).validate().is_err());
        assert!(at(u32::MAX).validate().is_err());
    }

    #[test]
    fn small_frames_are_never_upscaled() {
        let c = DetectorConfig::default();
        assert_eq!(c.input_geometry(300, 200), ((300, 200), (320, 224)));
    }
}
