//! Liveness over a camera stream: one face is seen for a second or more, so the decision is
//! taken over its last frames, not on one.
//!
//! # The rule
//!
//! Faces are followed from frame to frame by box overlap: a face belongs to the track whose
//! last box it overlaps most, with an intersection over union of at least
//! [`StreamConfig::min_iou`]; otherwise it starts a new track. A track not seen for more
//! than [`StreamConfig::max_missed`] frames ends. Each frame the inner check judges every
//! face; the track keeps the scores of its last [`StreamConfig::window`] judged frames (a
//! frame whose face could not be judged, too small or without colour, adds nothing).
//!
//! A track is **live** when it holds at least [`StreamConfig::min_frames`] scores and their
//! median is at or above the threshold, a **spoof** when it holds that many and their median
//! is below, and **undecided** before. With the defaults (a window of 5, at least 3 frames)
//! a replayed video needs 3 of its last 5 frames judged live to pass, so one lucky frame does
//! not; and a real person needs only 3 of 5, so one bad frame does not fail them.

use std::sync::Mutex;

use crate::detect::Face;
use crate::geometry::BoundingBox;
use crate::image::ImageView;

use super::{Liveness, LivenessError, LivenessScore};

/// The stream rule's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamConfig {
    /// How many of a track's latest judged frames are kept (1 to 64).
    pub window: usize,
    /// How many judged frames a decision needs (1 to `window`).
    pub min_frames: usize,
    /// Least box overlap (IoU) for a face to continue a track (0 to 1).
    pub min_iou: f32,
    /// Frames a track may go unseen before it ends.
    pub max_missed: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            window: 5,
            min_frames: 3,
            min_iou: 0.3,
            max_missed: 5,
        }
    }
}

/// What the stream rule says about one face of the latest frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackVerdict {
    /// The track the face belongs to (numbered from 1 for this stream).
    pub track: u64,
    /// The median score of the track's window, if it has any score.
    pub score: Option<f32>,
    /// The threshold applied.
    pub threshold: f32,
    /// Judged frames in the window.
    pub frames: usize,
    /// The decision.
    pub decision: StreamDecision,
}

/// A track's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamDecision {
    /// At least `min_frames` judged frames, median at or above the threshold.
    Live,
    /// At least `min_frames` judged frames, median below the threshold.
    Spoof,
    /// Not enough judged frames yet: keep looking at the camera.
    Undecided,
}

struct Track {
    id: u64,
    bbox: BoundingBox,
    /// A digest of the face's pixels in the frame it was last seen in: a verdict is given
    /// only for that frame, not for another frame with a face in the same place.
    print: u64,
    /// Scores of the latest judged frames, oldest first.
    scores: Vec<f32>,
    threshold: f32,
    last_seen: u64,
}

impl Track {
    fn verdict(&self, config: &StreamConfig) -> TrackVerdict {
        let median = median(&self.scores);
        let decision = match median {
            Some(m) if self.scores.len() >= config.min_frames => {
                if m >= self.threshold {
                    StreamDecision::Live
                } else {
                    StreamDecision::Spoof
                }
            }
            _ => StreamDecision::Undecided,
        };
        TrackVerdict {
            track: self.id,
            score: median,
            threshold: self.threshold,
            frames: self.scores.len(),
            decision,
        }
    }
}

/// A digest (FNV-1a) of an 8 × 8 grid of the face box's pixels, clipped to the frame: tells
/// the frame a face was observed in from another one.
fn fingerprint(image: &ImageView, b: &BoundingBox) -> u64 {
    const GRID: usize = 8;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: u64| {
        h ^= v;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for v in [b.x, b.y, b.width, b.height] {
        eat(u64::from(v.to_bits()));
    }
    let (w, fh) = (image.width() as f32, image.height() as f32);
    if !(b.x.is_finite() && b.y.is_finite() && b.width.is_finite() && b.height.is_finite()) {
        return h;
    }
    for j in 0..GRID {
        for i in 0..GRID {
            let x = (b.x + b.width * (i as f32 + 0.5) / GRID as f32).clamp(0.0, w - 1.0);
            let y = (b.y + b.height * (j as f32 + 0.5) / GRID as f32).clamp(0.0, fh - 1.0);
            for c in image.rgb_at(x as usize, y as usize) {
                eat(u64::from(c.to_bits()));
            }
        }
    }
    h
}

/// The median (the mean of the middle two for an even count); `None` when empty.
fn median(values: &[f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

struct State {
    tracks: Vec<Track>,
    frame: u64,
    next_id: u64,
}

/// The stream rule around a per-frame check, for one camera stream.
///
/// Call [`observe`](Self::observe) with every frame's faces; give the engine this check
/// (`Engine::with_liveness`), and a template made for a face of the latest observed frame
/// (the same box in the same frame: its pixels are checked) is allowed only when its track
/// is live: a spoof is
/// [`LivenessError::PresentationAttack`], a track still undecided
/// [`LivenessError::Undecided`] ("keep looking at the camera"). A face the engine is asked
/// about that was not observed in that very frame is observed first (judged, and added to
/// the track it continues), so firmware that only calls the engine, frame after frame, gets
/// the stream rule too. One `StreamLiveness` per camera stream.
pub struct StreamLiveness<L> {
    inner: L,
    config: StreamConfig,
    state: Mutex<State>,
}

impl<L: Liveness> StreamLiveness<L> {
    /// The stream rule around `inner` with the default settings.
    pub fn new(inner: L) -> Self {
        Self::with_config(inner, StreamConfig::default()).expect("the defaults are valid")
    }

    /// The stream rule with `config`; an error naming the bad setting.
    pub fn with_config(inner: L, config: StreamConfig) -> Result<Self, LivenessError> {
        let ok = (1..=64).contains(&config.window)
            && (1..=config.window).contains(&config.min_frames)
            && (0.0..=1.0).contains(&config.min_iou);
        if !ok {
            return Err(LivenessError::Config(format!(
                "window {} must be 1 to 64, min_frames {} 1 to the window, min_iou {} 0 to 1",
                config.window, config.min_frames, config.min_iou
            )));
        }
        Ok(StreamLiveness {
            inner,
            config,
            state: Mutex::new(State {
                tracks: Vec::new(),
                frame: 0,
                next_id: 1,
            }),
        })
    }

    /// The per-frame check.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// Judges every face of the next frame and returns each face's track verdict, in the
    /// order of `faces`. Faces the inner check cannot judge (too small, no colour) join their
    /// track without a score; an inference failure is an error and changes nothing.
    pub fn observe(
        &self,
        image: &ImageView,
        faces: &[Face],
    ) -> Result<Vec<TrackVerdict>, LivenessError> {
        let mut judged = Vec::with_capacity(faces.len());
        for face in faces {
            judged.push(match self.inner.check(image, face) {
                Ok(v) => Some(v),
                Err(
                    LivenessError::FaceTooSmall { .. }
                    | LivenessError::NoColour { .. }
                    | LivenessError::FaceOutsideFrame,
                ) => None,
                Err(e) => return Err(e),
            });
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.frame += 1;
        let frame = state.frame;
        let max_missed = u64::from(self.config.max_missed);
        state
            .tracks
            .retain(|t| frame - t.last_seen <= max_missed.saturating_add(1));
        let mut taken = vec![false; state.tracks.len()];
        let mut verdicts = Vec::with_capacity(faces.len());
        for (face, verdict) in faces.iter().zip(judged) {
            // The free track this face overlaps most, if enough.
            let best = state
                .tracks
                .iter()
                .enumerate()
                .filter(|(i, _)| !taken[*i])
                .map(|(i, t)| (i, t.bbox.iou(&face.bbox)))
                .filter(|(_, iou)| *iou >= self.config.min_iou)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i);
            let index = match best {
                Some(i) => {
                    taken[i] = true;
                    i
                }
                None => {
                    let id = state.next_id;
                    state.next_id += 1;
                    state.tracks.push(Track {
                        id,
                        bbox: face.bbox,
                        print: 0,
                        scores: Vec::new(),
                        threshold: f32::NAN,
                        last_seen: frame,
                    });
                    taken.push(true);
                    state.tracks.len() - 1
                }
            };
            let track = &mut state.tracks[index];
            track.bbox = face.bbox;
            track.print = fingerprint(image, &face.bbox);
            track.last_seen = frame;
            if let Some(v) = verdict {
                track.threshold = v.threshold;
                track.scores.push(v.score);
                if track.scores.len() > self.config.window {
                    track.scores.remove(0);
                }
            }
            verdicts.push(track.verdict(&self.config));
        }
        Ok(verdicts)
    }
}

impl<L: Liveness> Liveness for StreamLiveness<L> {
    fn check(&self, image: &ImageView, face: &Face) -> Result<LivenessScore, LivenessError> {
        // Only the very face observed, in the very frame: same box, same pixels.
        let print = fingerprint(image, &face.bbox);
        let found = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let frame = state.frame;
            state
                .tracks
                .iter()
                .find(|t| t.last_seen == frame && t.bbox == face.bbox && t.print == print)
                .map(|t| t.verdict(&self.config))
        };
        let verdict = match found {
            Some(v) => v,
            // Not observed in this frame: observed now.
            None => *self
                .observe(image, std::slice::from_ref(face))?
                .first()
                .ok_or(LivenessError::FaceOutsideFrame)?,
        };
        match (verdict.decision, verdict.score) {
            (StreamDecision::Undecided, _) | (_, None) => Err(LivenessError::Undecided {
                frames: verdict.frames,
                needed: self.config.min_frames,
            }),
            (_, Some(score)) => Ok(LivenessScore {
                score,
                threshold: verdict.threshold,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;

    /// A check that returns the scores given, one per call, in order.
    struct Scripted(Mutex<Vec<f32>>);
    impl Liveness for Scripted {
        fn check(&self, _: &ImageView, _: &Face) -> Result<LivenessScore, LivenessError> {
            let mut s = self.0.lock().unwrap();
            Ok(LivenessScore {
                score: s.remove(0),
                threshold: 0.0,
            })
        }
    }

    fn face(x: f32) -> Face {
        Face {
            bbox: BoundingBox {
                x,
                y: 10.0,
                width: 100.0,
                height: 120.0,
            },
            score: 0.9,
            landmarks: [Point::default(); 5],
        }
    }

    fn stream(scores: &[f32]) -> StreamLiveness<Scripted> {
        StreamLiveness::new(Scripted(Mutex::new(scores.to_vec())))
    }

    fn decisions(s: &StreamLiveness<Scripted>, n: usize) -> Vec<StreamDecision> {
        let px = [0u8; 3];
        let img = ImageView::rgb(&px, 1, 1).unwrap();
        (0..n)
            .map(|i| s.observe(&img, &[face(i as f32 * 3.0)]).unwrap()[0].decision)
            .collect()
    }

    #[test]
    fn one_lucky_frame_of_a_replay_does_not_pass() {
        use StreamDecision::*;
        let s = stream(&[-3.0, -2.0, 5.0, -4.0, -1.0, 6.0, -2.0]);
        assert_eq!(
            decisions(&s, 7),
            [Undecided, Undecided, Spoof, Spoof, Spoof, Spoof, Spoof]
        );
    }

    #[test]
    fn one_bad_frame_of_a_real_person_does_not_fail() {
        use StreamDecision::*;
        let s = stream(&[3.0, 4.0, -6.0, 2.0, 5.0, 3.0]);
        assert_eq!(
            decisions(&s, 6),
            [Undecided, Undecided, Live, Live, Live, Live]
        );
    }

    #[test]
    fn a_face_far_from_every_track_starts_its_own() {
        let px = [0u8; 3];
        let img = ImageView::rgb(&px, 1, 1).unwrap();
        let s = stream(&[1.0, 1.0, 1.0, -1.0]);
        let a = s.observe(&img, &[face(0.0), face(500.0)]).unwrap();
        assert_ne!(a[0].track, a[1].track);
        let b = s.observe(&img, &[face(505.0), face(2.0)]).unwrap();
        assert_eq!((b[0].track, b[1].track), (a[1].track, a[0].track));
    }

    #[test]
    fn an_undecided_track_is_no_verdict_for_the_engine() {
        let px = [0u8; 3];
        let img = ImageView::rgb(&px, 1, 1).unwrap();
        let s = stream(&[3.0, 3.0, 3.0]);
        s.observe(&img, &[face(0.0)]).unwrap();
        let err = s.check(&img, &face(0.0)).unwrap_err();
        assert!(
            matches!(
                err,
                LivenessError::Undecided {
                    frames: 1,
                    needed: 3
                }
            ),
            "{err}"
        );
        s.observe(&img, &[face(1.0)]).unwrap();
        s.observe(&img, &[face(2.0)]).unwrap();
        assert!(s.check(&img, &face(2.0)).unwrap().is_live());
    }

    #[test]
    fn a_frame_not_observed_is_judged_before_any_verdict() {
        let lit = [200u8, 150, 120];
        let other = [20u8, 15, 12];
        let img = ImageView::rgb(&lit, 1, 1).unwrap();
        let swapped = ImageView::rgb(&other, 1, 1).unwrap();
        let s = stream(&[3.0, 3.0, 3.0, 3.0]);
        for k in 0..3 {
            s.observe(&img, &[face(k as f32)]).unwrap();
        }
        let left = |s: &StreamLiveness<Scripted>| s.inner().0.lock().unwrap().len();
        // The observed face in the observed frame: the track's verdict, no new judgement.
        assert!(s.check(&img, &face(2.0)).unwrap().is_live());
        assert_eq!(left(&s), 1);
        // The same box in another frame is judged first (and joins the track).
        s.check(&swapped, &face(2.0)).unwrap();
        assert_eq!(left(&s), 0);
    }

    #[test]
    fn bad_settings_are_refused() {
        for config in [
            StreamConfig {
                window: 0,
                ..Default::default()
            },
            StreamConfig {
                min_frames: 6,
                ..Default::default()
            },
            StreamConfig {
                min_iou: f32::NAN,
                ..Default::default()
            },
        ] {
            assert!(StreamLiveness::with_config(Scripted(Mutex::new(vec![])), config).is_err());
        }
    }
}
