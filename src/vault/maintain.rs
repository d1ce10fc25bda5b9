//! Compaction and key rotation.

use super::core::Vault;
use super::event::{hex, Event};
use super::journal::{self, PayloadState};
use super::{atomic, keys, VaultError, VaultKey};
use crate::error::Error;

impl Vault {
    /// Takes the templates of ended consents out of the journal: their payloads (already
    /// undecryptable, their data keys destroyed) are dropped, only their hashes kept so that
    /// the audit chain still verifies. The journal is rewritten atomically. Returns the
    /// number of templates purged (0, and nothing written, if there were none).
    pub fn compact(&self) -> Result<u64, Error> {
        let mut inner = self.lock_inner();
        inner.check_usable()?;
        let bytes = inner
            .storage
            .read(journal::FILE)?
            .ok_or_else(|| VaultError::Truncated {
                file: journal::FILE.into(),
                needed: journal::HEADER_LEN as u64,
                got: 0,
            })?;
        journal::check_header(&bytes, &inner.vault)?;
        let scan = journal::scan(&bytes, &inner.vault);
        if let Some(why) = scan.stopped {
            return Err(VaultError::Corrupt {
                file: format!("{} ({why})", journal::FILE),
            }
            .into());
        }
        let last_chain = scan.entries.last().map(|e| e.chain);
        if scan.entries.len() as u64 != inner.entries
            || last_chain.is_some_and(|c| c != inner.chain)
        {
            return Err(VaultError::RolledBack {
                file: journal::FILE.into(),
                why: "it changed under the open vault".into(),
            }
            .into());
        }
        let dead: Vec<u64> = inner
            .templates
            .iter()
            .filter(|(_, consent)| inner.consents.get(consent).is_none_or(|c| c.key.is_none()))
            .map(|(seq, _)| *seq)
            .collect();
        if dead.is_empty() {
            return Ok(0);
        }
        let mut out = journal::header(&inner.vault);
        let mut purged = 0u64;
        for entry in &scan.entries {
            let drop =
                entry.state == PayloadState::Present && dead.binary_search(&entry.seq).is_ok();
            let state = if drop {
                PayloadState::Dropped
            } else {
                entry.state
            };
            purged += u64::from(drop);
            out.extend(journal::encode(
                entry.seq,
                entry.meta,
                state,
                &entry.payload_hash,
                entry.payload,
                &entry.chain,
            ));
        }
        let reclaimed = (bytes.len() as u64).saturating_sub(out.len() as u64);
        let seq = inner.entries;
        let (entry, chain) = inner.entry(
            seq,
            &inner.chain,
            self.now(),
            Event::Compacted {
                templates: purged,
                bytes: reclaimed,
            },
            None,
        )?;
        out.extend(entry);
        // The purge and its audit entry land together, with the rename.
        inner.write(|inner| atomic::replace(&*inner.storage, journal::FILE, &out))?;
        for seq in &dead {
            inner.templates.remove(seq);
        }
        inner.advance(seq + 1, chain)?;
        Ok(purged)
    }

    /// Re-seals the vault under `new_key`: every data key is re-wrapped (templates are not
    /// decrypted) into the key files of the next epoch, then the head switches to the new key
    /// in one atomic replacement, then the old key files are deleted. From then on only
    /// `new_key` opens the vault, and the old key opens no copy of its files taken later; a
    /// copy taken earlier stays sealed under the old key, so retire (destroy) it.
    ///
    /// If this returns an error, keep both keys until one of them opens the vault: a power
    /// cut or a failed write leaves the vault under the old key or the new one. If it opens
    /// under the old key (the rotation was abandoned), retire the new key too and rotate to a
    /// freshly generated one: the abandoned key files, which may linger in flash blocks, were
    /// sealed under the new key. The journal
    /// key and the data keys are not renewed (that would mean re-encrypting everything): the
    /// old key, with a copy of the head and key files from before the rotation, still unwraps
    /// them for whoever also gets a later copy of the journal. Hence: destroy the old key.
    pub fn rotate_key(&self, new_key: VaultKey) -> Result<(), Error> {
        let mut inner = self.lock_inner();
        inner.check_usable()?;
        if new_key.fingerprint() == inner.key.fingerprint() {
            return Err(VaultError::SameKey.into());
        }
        let old_epoch = inner.epoch;
        let epoch = old_epoch.checked_add(1).ok_or(VaultError::SameKey)?;
        let event = Event::KeyRotation {
            from: hex(&inner.key.fingerprint()),
            to: hex(&new_key.fingerprint()),
            epoch,
        };
        inner.append(self.now(), event, None)?;
        // Every bucket of the new epoch is written, empty ones too, at generation 1.
        let mut files =
            vec![std::collections::BTreeMap::<u64, Vec<u8>>::new(); keys::BUCKETS as usize];
        for (id, consent) in &inner.consents {
            if let Some((data_key, _)) = &consent.key {
                let binding = keys::binding(&inner.vault, *id, &consent.record.purpose);
                let wrapped = keys::wrap(&new_key, &binding, data_key)?;
                files[(*id % keys::BUCKETS) as usize].insert(*id, wrapped);
            }
        }
        let vault = inner.vault;
        inner.write(|inner| {
            for (bucket, wrapped) in files.iter().enumerate() {
                let name = keys::file_name(epoch, bucket as u64);
                atomic::replace(
                    &*inner.storage,
                    &name,
                    &keys::encode(&vault, epoch, 1, wrapped),
                )?;
            }
            Ok(())
        })?;
        // The switch: the head sealed under the new key, naming the new epoch.
        let old_key = std::mem::replace(&mut inner.key, new_key);
        inner.epoch = epoch;
        inner.generations = [1; keys::BUCKETS as usize];
        drop(old_key);
        // If this fails the head on flash may be under either key (the vault is poisoned):
        // the caller keeps both keys until one of them opens the vault.
        inner.write_head()?;
        for (id, consent) in inner.consents.iter_mut() {
            if let Some((_, wrapped)) = &mut consent.key {
                if let Some(new) = files[(*id % keys::BUCKETS) as usize].get(id) {
                    *wrapped = new.clone();
                }
            }
        }
        inner.write(|inner| {
            for name in inner.storage.list()? {
                if keys::epoch_of(&name).is_some_and(|e| e != epoch) {
                    inner.storage.remove(&name)?;
                }
            }
            inner.storage.sync_dir()
        })?;
        Ok(())
    }
}
