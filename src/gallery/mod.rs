//! Galleries: the enrolled templates of one purpose, for 1:N identification.
//!
//! Templates are rows of a [`faceguard_match::Index`] (SIMD scans over a zeroizing,
//! cache-friendly layout); the gallery ties each row to the consent it was enrolled under and
//! each subject to a group, so that a search returns one candidate per person.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use faceguard_match::{Hit, Index, SearchOptions};
use serde::Serialize;

use crate::consent::{ConsentCell, ConsentError, ConsentId, Purpose, SubjectId, Timestamp};
use crate::matching::{same_model, Decision, MatchError, Matcher, Method};
use crate::model::ModelId;
use crate::template::{ProbeTemplate, Template};

/// One identification result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The enrolled person.
    pub subject: SubjectId,
    /// The consent the matching template was enrolled under.
    pub consent: ConsentId,
    /// Cosine similarity of the best template of this subject.
    pub score: f32,
    /// Whether the score reaches the gallery's threshold.
    pub is_match: bool,
}

/// How a gallery searches.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SearchConfig {
    method: Method,
    threads: usize,
}

/// One enrolled subject's place in the index.
struct SubjectRows {
    /// The subject's group in the index (one candidate per group in a search).
    group: u32,
    /// The index rows holding the subject's templates, in no order; kept in step with every
    /// `swap_remove`, so that a 1:1 verification scores these rows and no other.
    rows: Vec<usize>,
}

struct Store {
    /// The model of the templates held; `None` while the gallery is empty, so that once every
    /// template of an old model is erased, templates of a new one can be enrolled.
    model: Option<ModelId>,
    /// Created with the first template, whose length fixes the dimension; dropped again with
    /// the last one.
    index: Option<Index>,
    /// `owners[row]` is the consent of index row `row`.
    owners: Vec<Arc<ConsentCell>>,
    /// Each enrolled subject's group and rows.
    subjects: HashMap<SubjectId, SubjectRows>,
    next_group: u32,
    matcher: Matcher,
    search: SearchConfig,
}

impl Store {
    /// Erases every row whose owner satisfies `ended`; returns how many. Once the last row
    /// is gone, the gallery forgets its model and dimension.
    fn erase_where(&mut self, ended: impl Fn(&ConsentCell) -> bool) -> usize {
        let Some(index) = self.index.as_mut() else {
            return 0;
        };
        let mut erased = 0;
        for row in (0..self.owners.len()).rev() {
            if ended(&self.owners[row]) {
                let last = self.owners.len() - 1;
                index
                    .swap_remove(row)
                    .expect("owners and index rows are kept in step");
                let owner = self.owners.swap_remove(row);
                if let Some(subject) = &owner.subject {
                    let emptied = self.subjects.get_mut(subject).is_some_and(|s| {
                        if let Some(at) = s.rows.iter().position(|&r| r == row) {
                            s.rows.swap_remove(at);
                        }
                        s.rows.is_empty()
                    });
                    if emptied {
                        self.subjects.remove(subject);
                    }
                }
                // The last row now sits at `row`: its subject's list follows it.
                if row != last {
                    if let Some(s) = self.owners[row]
                        .subject
                        .as_ref()
                        .and_then(|subject| self.subjects.get_mut(subject))
                    {
                        if let Some(r) = s.rows.iter_mut().find(|r| **r == last) {
                            *r = row;
                        }
                    }
                }
                erased += 1;
            }
        }
        if self.owners.is_empty() {
            self.index = None;
            self.model = None;
        }
        erased
    }

    /// Records `row` as one of `subject`'s, giving the subject the next group if it is new.
    fn add_row_of(&mut self, subject: &SubjectId, row: usize) {
        let next = &mut self.next_group;
        self.subjects
            .entry(subject.clone())
            .or_insert_with(|| {
                let group = *next;
                *next = next.wrapping_add(1);
                SubjectRows {
                    group,
                    rows: Vec::new(),
                }
            })
            .rows
            .push(row);
    }
}

pub(crate) struct Shared {
    /// The ledger whose consents this gallery holds templates of.
    ledger: u64,
    /// The purpose of every template here, checked at run time too (for purposes named at
    /// run time).
    purpose: Arc<str>,
    store: RwLock<Store>,
}

impl Shared {
    pub(crate) fn new(ledger: u64, purpose: Arc<str>) -> Self {
        Shared {
            ledger,
            purpose,
            store: RwLock::new(Store {
                model: None,
                index: None,
                owners: Vec::new(),
                subjects: HashMap::new(),
                next_group: 0,
                matcher: Matcher::default(),
                search: SearchConfig {
                    method: Method::ExactI8,
                    threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
                },
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    fn erase_ended(&self, now: Timestamp) -> usize {
        self.write().erase_where(|c| c.check_at(now).is_err())
    }

    /// Erases (zeroizes and removes) every template made under `consent`; returns how many.
    pub(crate) fn erase_consent(&self, consent: ConsentId) -> usize {
        self.write().erase_where(|c| c.id == consent)
    }

    /// Refuses a consent of another ledger or purpose, or one that has ended.
    fn admit(&self, consent: &ConsentCell) -> Result<(), MatchError> {
        self.admit_at(consent, consent.now()?)
    }

    /// [`admit`](Self::admit) at a given time.
    fn admit_at(&self, consent: &ConsentCell, now: Timestamp) -> Result<(), MatchError> {
        consent.check_at(now)?;
        if consent.ledger != self.ledger {
            return Err(ConsentError::ForeignLedger {
                consent: consent.id,
            }
            .into());
        }
        if *consent.purpose != *self.purpose {
            return Err(ConsentError::PurposeMismatch {
                consent: consent.id,
                granted: consent.purpose.to_string(),
                requested: self.purpose.to_string(),
            }
            .into());
        }
        Ok(())
    }

    /// Whether [`enroll`](Self::enroll) would take a `dim`-dimensional template of `model`
    /// under `consent` (the vault asks before it commits one to flash).
    pub(crate) fn check_enroll(
        &self,
        dim: usize,
        model: ModelId,
        consent: &ConsentCell,
    ) -> Result<(), MatchError> {
        let store = self.read();
        self.admit(consent)?;
        if let Some(stored) = store.model {
            same_model(stored, model)?;
        }
        match &store.index {
            Some(index) if !store.owners.is_empty() && index.dim() != dim => {
                Err(faceguard_match::IndexError::DimensionMismatch {
                    expected: index.dim(),
                    got: dim,
                }
                .into())
            }
            _ => Ok(()),
        }
    }

    /// Stores a copy of `vector`, enrolled under `consent` by `model`.
    pub(crate) fn enroll(
        &self,
        vector: &[f32],
        model: ModelId,
        consent: &Arc<ConsentCell>,
    ) -> Result<(), MatchError> {
        self.enroll_at(vector, model, consent, consent.now()?)
    }

    /// [`enroll`](Self::enroll), deciding the consent at `now` (the vault loads its templates
    /// at the one instant it opened, whatever the clock says meanwhile).
    pub(crate) fn enroll_at(
        &self,
        vector: &[f32],
        model: ModelId,
        consent: &Arc<ConsentCell>,
        now: Timestamp,
    ) -> Result<(), MatchError> {
        let mut store = self.write();
        // Checked under the gallery lock: a revocation either happened before (refused here)
        // or erases this template right after.
        self.admit_at(consent, now)?;
        if let Some(stored) = store.model {
            same_model(stored, model)?;
        }
        let subject = consent
            .subject
            .as_ref()
            .expect("enrolment templates name their subject");
        let store = &mut *store;
        let group = match store.subjects.get(subject) {
            Some(s) => s.group,
            None => store.next_group,
        };
        let row = match &mut store.index {
            Some(index) => index.push(vector, group)?,
            None => {
                // Kept only once the first template is in, so that a refused first template
                // cannot fix the dimension.
                let mut index = Index::new(vector.len())?;
                let row = index.push(vector, group)?;
                store.index = Some(index);
                row
            }
        };
        store.add_row_of(subject, row);
        store.model = Some(model);
        store.owners.push(consent.clone());
        Ok(())
    }

    /// See [`Gallery::identify`].
    ///
    /// `target_fmr` is the false-match rate the probe's purpose asks for: a matcher from a
    /// laxer operating point is refused, checked under the same lock as the decisions.
    pub(crate) fn identify(
        &self,
        probe: &[f32],
        model: ModelId,
        consent: &ConsentCell,
        k: usize,
        target_fmr: f64,
    ) -> Result<Vec<Candidate>, MatchError> {
        self.admit(consent)?;
        let now = consent.now()?;
        loop {
            {
                let store = self.read();
                let (Some(stored), Some(index)) = (store.model, store.index.as_ref()) else {
                    return Ok(Vec::new());
                };
                same_model(stored, model)?;
                store.matcher.check_model(model)?;
                store.matcher.check_rate(&consent.purpose, target_fmr)?;
                let options = SearchOptions::new(k)
                    .per_group(true)
                    .method(store.search.method)
                    .threads(store.search.threads);
                let hits = index.search(probe, &options)?.hits;
                // Revocation erases templates at once; expiry is noticed here. A hit whose
                // consent has ended sends every ended template away and the search again.
                if hits
                    .iter()
                    .all(|h| store.owners[h.row].check_at(now).is_ok())
                {
                    return Ok(hits.iter().map(|h| store.candidate(h)).collect());
                }
            }
            self.erase_ended(now);
        }
    }

    /// 1:1 verification of a claimed identity: the best exact score of `subject`'s templates
    /// here against `probe`, or `None` if `subject` has none. The probe is refused as by
    /// [`identify`](Self::identify) (consent ended, another ledger or purpose, another model,
    /// a malformed vector), and a template whose consent has ended never scores: if one of
    /// `subject`'s templates has expired, every expired template is erased first.
    ///
    /// Cost: a hash lookup, then one `f32` dot product per template of `subject`
    /// (`O(templates of subject · dim)`), whatever the number of enrolled subjects; plus,
    /// only when an expired template of `subject` is met, one pass over the gallery to erase
    /// the expired ones (each expiry is erased once). A loop of claims therefore costs linear
    /// time in the number of claims, not in claims × gallery size.
    #[cfg(test)]
    pub(crate) fn best_score_of(
        &self,
        subject: &SubjectId,
        probe: &[f32],
        model: ModelId,
        consent: &ConsentCell,
    ) -> Result<Option<f32>, MatchError> {
        Ok(self.best_of(subject, probe, model, consent)?.0)
    }

    /// 1:1 verification decided by this gallery's matcher for a purpose asking for
    /// false-match rate `target_fmr`: the matcher is checked (model, rate) and decides as one
    /// snapshot, read under the lock the score is computed under.
    pub(crate) fn verify(
        &self,
        subject: &SubjectId,
        probe: &[f32],
        model: ModelId,
        consent: &ConsentCell,
        target_fmr: f64,
    ) -> Result<Option<Decision>, MatchError> {
        let (best, matcher) = self.best_of(subject, probe, model, consent)?;
        matcher.check_rate(&consent.purpose, target_fmr)?;
        Ok(best.map(|score| matcher.decide(score)))
    }

    /// [`best_score_of`](Self::best_score_of), with the matcher of the same snapshot (checked
    /// against the probe's model).
    fn best_of(
        &self,
        subject: &SubjectId,
        probe: &[f32],
        model: ModelId,
        consent: &ConsentCell,
    ) -> Result<(Option<f32>, Matcher), MatchError> {
        self.admit(consent)?;
        let now = consent.now()?;
        loop {
            {
                let store = self.read();
                let (Some(stored), Some(index)) = (store.model, store.index.as_ref()) else {
                    return Ok((None, store.matcher));
                };
                same_model(stored, model)?;
                store.matcher.check_model(model)?;
                let rows = store.subjects.get(subject).map_or(&[][..], |s| &s.rows[..]);
                if rows.iter().all(|&r| store.owners[r].check_at(now).is_ok()) {
                    let best = index.best_among(probe, rows, None)?.map(|hit| hit.score);
                    return Ok((best, store.matcher));
                }
            }
            self.erase_ended(now);
        }
    }

    /// Number of stored templates.
    pub(crate) fn len(&self) -> usize {
        self.read().owners.len()
    }

    /// Number of distinct enrolled subjects.
    pub(crate) fn subject_count(&self) -> usize {
        self.read().subjects.len()
    }

    /// The enrolled subjects.
    pub(crate) fn subjects(&self) -> Vec<SubjectId> {
        self.read().subjects.keys().cloned().collect()
    }

    pub(crate) fn set_matcher(&self, matcher: Matcher) {
        self.write().matcher = matcher;
    }

    pub(crate) fn matcher(&self) -> Matcher {
        self.read().matcher
    }
}

/// The enrolled templates of purpose `P`, made by [`ConsentLedger::gallery`] so that ending a
/// consent erases its templates here.
///
/// `Send + Sync`: enrol and identify from several threads.
///
/// [`ConsentLedger::gallery`]: crate::ConsentLedger::gallery
pub struct Gallery<P: Purpose> {
    shared: Arc<Shared>,
    _purpose: PhantomData<fn() -> P>,
}

impl<P: Purpose> Gallery<P> {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Gallery {
            shared,
            _purpose: PhantomData,
        }
    }

    /// The purpose of this gallery: `P::NAME`, or the name given at run time for
    /// [`NamedPurpose`](crate::NamedPurpose).
    pub fn purpose(&self) -> &str {
        &self.shared.purpose
    }

    /// Sets the decision threshold used by [`identify`](Self::identify).
    pub fn set_matcher(&self, matcher: Matcher) {
        self.shared.set_matcher(matcher);
    }

    /// The decision threshold in use.
    pub fn matcher(&self) -> Matcher {
        self.shared.matcher()
    }

    /// Sets how [`identify`](Self::identify) scores the gallery. The default,
    /// [`Method::ExactI8`], returns exactly the best `f32` scores while reading a quarter of
    /// the bytes; [`Method::Fast`] is for galleries of hundreds of thousands of templates.
    pub fn set_method(&self, method: Method) {
        self.shared.write().search.method = method;
    }

    /// Sets the number of threads a search may use (default: the CPU count). Galleries below
    /// some 16,000 templates per thread are scanned on fewer threads.
    pub fn set_threads(&self, threads: usize) {
        self.shared.write().search.threads = threads.max(1);
    }

    /// Stores `template`; its memory is wiped once copied into the gallery. Fails if its
    /// consent has ended, names another purpose, or it comes from another model than the
    /// templates already here. A person with several templates is scored by the best of them
    /// (one candidate per person); the threshold's false-match rate is per template, so k
    /// templates of one person give a stranger up to k times its chances.
    pub fn enroll(&self, template: Template<P>) -> Result<(), MatchError> {
        self.shared.enroll(
            template.vector.as_slice(),
            template.model,
            &template.consent,
        )
    }

    /// 1:N identification: the `k` best-scoring enrolled subjects (one entry per subject),
    /// best first, by the gallery's search method. Refused if the gallery's matcher comes from
    /// an operating point laxer than `P::TARGET_FMR` ([`MatchError::LaxerThanPurpose`]: set
    /// `engine.matcher::<P>()`). A template whose consent has ended never
    /// matches: revocation erases it at once, and an expired one met by a search is erased
    /// with every other expired template before the search is run again
    /// (`ledger.sweep_expired()` erases the ones no search meets).
    pub fn identify(
        &self,
        probe: &ProbeTemplate<P>,
        k: usize,
    ) -> Result<Vec<Candidate>, MatchError> {
        self.shared.identify(
            probe.vector.as_slice(),
            probe.model,
            &probe.consent,
            k,
            P::TARGET_FMR,
        )
    }

    /// Number of stored templates.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the gallery holds no template.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct enrolled subjects.
    pub fn subject_count(&self) -> usize {
        self.shared.subject_count()
    }

    /// Dimension of the stored templates (0 while empty).
    pub fn dim(&self) -> usize {
        let store = self.shared.read();
        match (&store.index, store.owners.is_empty()) {
            (Some(index), false) => index.dim(),
            _ => 0,
        }
    }
}

impl Store {
    fn candidate(&self, hit: &Hit) -> Candidate {
        let owner = &self.owners[hit.row];
        Candidate {
            subject: owner
                .subject
                .clone()
                .expect("galleries hold enrolment templates, which name their subject"),
            consent: owner.id,
            score: hit.score,
            is_match: self.matcher.decide(hit.score).is_match,
        }
    }
}

impl<P: Purpose> std::fmt::Debug for Gallery<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("purpose", &self.purpose())
            .field("templates", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
