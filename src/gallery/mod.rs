//! Galleries: the enrolled templates of one purpose, for 1:N identification.

mod rows;

use std::marker::PhantomData;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;

use crate::consent::{ConsentCell, ConsentError, ConsentId, Purpose, SubjectId, Timestamp};
use crate::matching::{dot, same_model, MatchError, Matcher};
use crate::model::ModelId;
use crate::template::{ProbeTemplate, Template};
use rows::Rows;

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

struct Store {
    model: Option<ModelId>,
    rows: Rows,
    /// `owners[i]` is the consent of `rows.row(i)`.
    owners: Vec<Arc<ConsentCell>>,
    matcher: Matcher,
}

impl Store {
    /// Erases every row whose owner satisfies `ended`; returns how many.
    fn erase_where(&mut self, ended: impl Fn(&ConsentCell) -> bool) -> usize {
        let mut erased = 0;
        for i in (0..self.owners.len()).rev() {
            if ended(&self.owners[i]) {
                self.rows.swap_remove(i);
                self.owners.swap_remove(i);
                erased += 1;
            }
        }
        erased
    }
}

pub(crate) struct Shared {
    /// The ledger whose consents this gallery holds templates of.
    ledger: u64,
    store: RwLock<Store>,
}

impl Shared {
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
    pub(crate) fn new(ledger: u64) -> Self {
        Gallery {
            shared: Arc::new(Shared {
                ledger,
                store: RwLock::new(Store {
                    model: None,
                    rows: Rows::new(),
                    owners: Vec::new(),
                    matcher: Matcher::default(),
                }),
            }),
            _purpose: PhantomData,
        }
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Sets the decision threshold used by [`identify`](Self::identify).
    pub fn set_matcher(&self, matcher: Matcher) {
        self.shared.write().matcher = matcher;
    }

    /// The decision threshold in use.
    pub fn matcher(&self) -> Matcher {
        self.shared.read().matcher
    }

    /// Stores `template`; its memory is wiped once copied into the gallery. Fails if its
    /// consent has ended or it comes from another model than the templates already here.
    pub fn enroll(&self, template: Template<P>) -> Result<(), MatchError> {
        let mut store = self.shared.write();
        // Checked under the gallery lock: a revocation either happened before (refused here)
        // or erases this template right after.
        template.check_consent()?;
        if template.consent.ledger != self.shared.ledger {
            return Err(ConsentError::ForeignLedger {
                consent: template.consent.id,
            }
            .into());
        }
        if let Some(model) = store.model {
            same_model(model, template.model)?;
        }
        store.model = Some(template.model);
        store.rows.push(template.vector.as_slice());
        store.owners.push(template.consent.clone());
        Ok(())
    }

    /// 1:N identification: the `k` best-scoring enrolled subjects (one entry per subject),
    /// best first. Templates whose consent has ended never match, and are erased.
    pub fn identify(
        &self,
        probe: &ProbeTemplate<P>,
        k: usize,
    ) -> Result<Vec<Candidate>, MatchError> {
        probe.check_consent()?;
        let now = probe.consent.now();
        let mut ended = false;
        let candidates = {
            let store = self.shared.read();
            let Some(model) = store.model else {
                return Ok(Vec::new());
            };
            same_model(model, probe.model)?;
            let mut top = TopK::new(k.min(store.rows.len()));
            for (i, row) in store.rows.iter().enumerate() {
                let owner = &store.owners[i];
                if owner.check_at(now).is_err() {
                    ended = true;
                    continue;
                }
                top.offer(dot(row, probe.vector.as_slice()), owner);
            }
            top.into_candidates(&store.matcher)
        };
        if ended {
            self.shared.erase_ended(now);
        }
        Ok(candidates)
    }

    /// Number of stored templates.
    pub fn len(&self) -> usize {
        self.shared.read().rows.len()
    }

    /// Whether the gallery holds no template.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct enrolled subjects.
    pub fn subject_count(&self) -> usize {
        let store = self.shared.read();
        let mut subjects: Vec<&SubjectId> = store
            .owners
            .iter()
            .filter_map(|c| c.subject.as_ref())
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        subjects.len()
    }

    /// Dimension of the stored templates (0 while empty).
    pub fn dim(&self) -> usize {
        self.shared.read().rows.dim()
    }
}

impl<P: Purpose> std::fmt::Debug for Gallery<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("purpose", &P::NAME)
            .field("templates", &self.len())
            .finish_non_exhaustive()
    }
}

/// The best `k` subjects seen so far, one entry per subject, best first. A score below the
/// current k-th is rejected with one comparison.
struct TopK<'a> {
    k: usize,
    best: Vec<(f32, &'a ConsentCell)>,
}

impl<'a> TopK<'a> {
    fn new(k: usize) -> Self {
        TopK {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    fn offer(&mut self, score: f32, owner: &'a ConsentCell) {
        if self.k == 0 || (self.best.len() == self.k && score <= self.best[self.k - 1].0) {
            return;
        }
        match self
            .best
            .iter()
            .position(|(_, o)| o.subject == owner.subject)
        {
            Some(i) if self.best[i].0 >= score => return,
            Some(i) => {
                self.best.remove(i);
            }
            None => {}
        }
        let at = self.best.partition_point(|(s, _)| *s >= score);
        self.best.insert(at, (score, owner));
        self.best.truncate(self.k);
    }

    fn into_candidates(self, matcher: &Matcher) -> Vec<Candidate> {
        self.best
            .into_iter()
            .map(|(score, owner)| Candidate {
                subject: owner
                    .subject
                    .clone()
                    .expect("galleries hold enrolment templates, which name their subject"),
                consent: owner.id,
                score,
                is_match: matcher.decide(score).is_match,
            })
            .collect()
    }
}
