//! A real process killed (SIGKILL) in the middle of a loop of enrolments, many times: the vault
//! always reopens with every enrolment the process reported as done.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::*;

const DIR_VAR: &str = "FACEGUARD_VAULT_KILL_DIR";

/// The child: enrols people into the vault in `$FACEGUARD_VAULT_KILL_DIR` until killed,
/// printing the number of templates after each enrolment returns.
#[test]
#[ignore = "the child process of kill_during_enrolment_loses_nothing_committed"]
fn child_enrols_until_killed() {
    let dir = std::env::var(DIR_VAR).expect("run by kill_during_enrolment_loses_nothing_committed");
    let vault = match Vault::open(&dir, key(1)) {
        Ok((vault, _)) => vault,
        Err(Error::Vault(VaultError::NoVault { .. })) => Vault::create(&dir, key(1)).unwrap(),
        Err(e) => panic!("{e}"),
    };
    let mut out = std::io::stdout().lock();
    for n in vault.template_count() as u64.. {
        let token = vault.grant::<Door>(subject(n), NOTICE, DAY).unwrap();
        vault.enroll(template(&token, n)).unwrap();
        writeln!(out, "committed {}", vault.template_count()).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn kill_during_enrolment_loses_nothing_committed() {
    let dir = std::env::temp_dir().join(format!("faceguard-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = SplitMix64::new(7);
    let mut committed = 0;
    for round in 0..25 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "vault::tests::kill::child_enrols_until_killed"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it commit a few enrolments, then kill it at a random moment.
        let wait = 1 + rng.next_u64() % 4;
        let mut seen = 0;
        while seen < wait {
            let line = lines.next().expect("the child stopped early").unwrap();
            if let Some(n) = line.strip_prefix("committed ") {
                committed = n.parse().unwrap();
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next_u64() % 3000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines printed before the kill are committed too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("committed ") {
                committed = n.parse().unwrap();
            }
        }
        let (vault, report) = Vault::open(&dir, key(1)).unwrap_or_else(|e| {
            panic!("round {round}: the vault does not open after SIGKILL: {e}")
        });
        let held = vault.template_count();
        assert!(
            held == committed || held == committed + 1,
            "round {round}: {held} templates, {committed} reported committed ({report:?})"
        );
        assert!(vault.audit().unwrap().verify().is_ok());
        committed = held;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
