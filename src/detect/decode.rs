//! YuNet output decoding (as OpenCV's `FaceDetectorYN`) and non-maximum suppression.

use tract_onnx::prelude::*;

use super::{DetectError, DetectorConfig, Face, STRIDES};
use crate::geometry::{BoundingBox, Point};

/// Decodes the 12 outputs (cls, obj, bbox, kps for strides 8, 16, 32) of a `pw × ph` input,
/// scales coordinates by `scale` back to the source image, and keeps the strongest faces.
pub(super) fn decode(
    outputs: &[TValue],
    (pw, ph): (usize, usize),
    scale: (f32, f32),
    config: &DetectorConfig,
    faces: &mut Vec<Face>,
) -> Result<(), DetectError> {
    for (level, &stride) in STRIDES.iter().enumerate() {
        let (cols, rows) = (pw / stride, ph / stride);
        let n = cols * rows;
        let output = |group: usize, width: usize| -> Result<&[f32], DetectError> {
            let index = group * 3 + level;
            let values = outputs
                .get(index)
                .ok_or(DetectError::UnexpectedOutput {
                    index,
                    expected: n * width,
                    found: 0,
                })?
                .try_as_plain_ram()
                .and_then(|v| v.as_slice::<f32>())
                .map_err(|e| DetectError::Inference(format!("{e:#}")))?;
            if values.len() != n * width {
                return Err(DetectError::UnexpectedOutput {
                    index,
                    expected: n * width,
                    found: values.len(),
                });
            }
            Ok(values)
        };
        let (cls, obj, bbox, kps) = (output(0, 1)?, output(1, 1)?, output(2, 4)?, output(3, 10)?);
        let s = stride as f32;
        for i in 0..n {
            let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
            // Written so that NaN scores are dropped too.
            if score.is_nan() || score < config.score_threshold {
                continue;
            }
            let (col, row) = ((i % cols) as f32, (i / cols) as f32);
            let b = &bbox[i * 4..i * 4 + 4];
            let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
            let (w, h) = (b[2].exp() * s, b[3].exp() * s);
            // The size in frame pixels, compared so that NaN sizes are dropped too.
            let (fw, fh) = (w * scale.0, h * scale.1);
            let min_face = config.min_face as f32;
            if !(fw >= min_face && fh >= min_face) {
                continue;
            }
            let k = &kps[i * 10..i * 10 + 10];
            let landmarks = std::array::from_fn(|j| {
                Point::new(
                    (col + k[2 * j]) * s * scale.0,
                    (row + k[2 * j + 1]) * s * scale.1,
                )
            });
            faces.push(Face {
                bbox: BoundingBox {
                    x: (cx - w / 2.0) * scale.0,
                    y: (cy - h / 2.0) * scale.1,
                    width: fw,
                    height: fh,
                },
                score,
                landmarks,
            });
        }
    }
    non_maximum_suppression(faces, config.nms_threshold, config.max_faces);
    Ok(())
}

/// Greedy NMS: strongest first, dropping any face overlapping a kept one by more than
/// `threshold` IoU; keeps at most `max` faces.
fn non_maximum_suppression(faces: &mut Vec<Face>, threshold: f32, max: usize) {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = 0;
    for i in 0..faces.len() {
        if kept == max {
            break;
        }
        let suppressed = faces[..kept]
            .iter()
            .any(|k| k.bbox.iou(&faces[i].bbox) > threshold);
        if !suppressed {
            faces.swap(kept, i);
            kept += 1;
        }
    }
    faces.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, score: f32) -> Face {
        Face {
            bbox: BoundingBox {
                x,
                y: 0.0,
                width: 10.0,
                height: 10.0,
            },
            score,
            landmarks: [Point::default(); 5],
        }
    }

    /// YuNet's 12 outputs for a 32x32 input holding two faces: a square of `small` model
    /// pixels centred on (4, 4) (stride 8's first anchor) and one of `large` centred on
    /// (16, 16) (stride 32's only anchor); every other anchor scores 0.
    fn outputs_with_two_faces(small: f32, large: f32) -> Vec<TValue> {
        let mut outputs = Vec::new();
        for group in 0..4 {
            for (level, stride) in STRIDES.iter().enumerate() {
                let n = (32 / stride) * (32 / stride);
                let width = [1, 1, 4, 10][group];
                let mut values = vec![0.0f32; n * width];
                let side = [Some(small), None, Some(large)][level];
                if let Some(side) = side {
                    match group {
                        0 | 1 => values[0] = 1.0,
                        2 => {
                            let log = (side / *stride as f32).ln();
                            values[..4].copy_from_slice(&[0.5, 0.5, log, log]);
                        }
                        _ => values[..10].fill(0.5),
                    }
                }
                outputs.push(
                    Tensor::from_shape(&[n * width], &values)
                        .unwrap()
                        .into_tvalue(),
                );
            }
        }
        // Pushed group by group, level by level: `decode` reads group g, level l at g * 3 + l.
        outputs
    }

    fn widths(min_face: u32, scale: f32) -> Vec<f32> {
        let config = DetectorConfig {
            min_face,
            ..DetectorConfig::default()
        };
        let mut faces = Vec::new();
        let outputs = outputs_with_two_faces(20.0, 30.0);
        decode(&outputs, (32, 32), (scale, scale), &config, &mut faces).unwrap();
        let mut w: Vec<f32> = faces.iter().map(|f| f.bbox.width.round()).collect();
        w.sort_by(f32::total_cmp);
        w
    }

    #[test]
    fn faces_smaller_than_the_smallest_face_are_dropped() {
        assert_eq!(widths(0, 1.0), vec![20.0, 30.0]);
        assert_eq!(widths(19, 1.0), vec![20.0, 30.0]);
        assert_eq!(widths(21, 1.0), vec![30.0]);
        assert_eq!(widths(31, 1.0), Vec::<f32>::new());
    }

    #[test]
    fn the_smallest_face_is_in_frame_pixels_not_model_pixels() {
        // A frame twice the model's input: the faces are 40 and 60 frame pixels.
        assert_eq!(widths(41, 2.0), vec![60.0]);
        assert_eq!(widths(30, 2.0), vec![40.0, 60.0]);
    }

    #[test]
    fn nms_keeps_the_strongest_of_overlapping_faces() {
        let mut faces = vec![face(0.0, 0.7), face(1.0, 0.9), face(50.0, 0.8)];
        non_maximum_suppression(&mut faces, 0.3, 10);
        let scores: Vec<f32> = faces.iter().map(|f| f.score).collect();
        assert_eq!(scores, vec![0.9, 0.8]);
    }

    #[test]
    fn nms_caps_the_number_of_faces() {
        let mut faces = vec![face(0.0, 0.7), face(100.0, 0.9), face(200.0, 0.8)];
        non_maximum_suppression(&mut faces, 0.3, 2);
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].score, 0.9);
    }
}
